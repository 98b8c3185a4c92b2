"""The programme report from monthly roll-ups equals the report from the raw tables, for every range, after
every kind of write; a write is seen by the next report; bulk statements mark what they change."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

RANGES = [
    (None, None),
    (date(2025, 3, 1), date(2025, 4, 30)),  # whole months
    (date(2025, 3, 15), date(2025, 5, 10)),  # partial months at both ends
    (date(2025, 3, 31), date(2025, 3, 31)),  # one day: the last of March (BST)
    (date(2025, 4, 1), date(2025, 4, 1)),
    (date(2025, 3, 5), date(2025, 3, 20)),  # inside one month
    (date(2025, 4, 1), date(2025, 4, 20)),  # from a month's first day
    (date(2025, 2, 10), date(2025, 3, 31)),  # to a month's last day
    (date(2025, 4, 1), None), (None, date(2025, 3, 31)), (date(2025, 3, 16), None), (None, date(2025, 4, 2)),
    (date(2019, 1, 1), date(2019, 12, 31)), (date(2030, 1, 1), None),  # no bookings at all
]


def _query(start, end) -> str:
    params = [f"{name}={day.isoformat()}" for name, day in (("from", start), ("to", end)) if day is not None]
    return "/api/v1/reports/programme" + ("?" + "&".join(params) if params else "")


def _raw(db, start, end) -> dict:
    from api.reports import service

    report = service.programme_raw(db(), start, end)
    db().commit()  # end the test session's read: requests share its connection (savepoints)
    return report


@pytest.fixture
def same_as_raw(db, viewer):
    """Assert the API's report (JSON and CSV) equals the raw-query report for each range; return the first."""
    from api.reports.schemas import ProgrammeReportSchema
    from api.reports.service import programme_rows

    def _check(ranges=RANGES) -> dict:
        reports = []
        for start, end in ranges:
            raw = _raw(db, start, end)
            r = viewer.get(_query(start, end))
            assert r.status_code == 200, r.json
            assert r.json == ProgrammeReportSchema().dump(raw), (start, end)
            reports.append(r.json)
        start, end = ranges[0]
        text = viewer.get(_query(start, end), headers={"Accept": "text/csv"}).get_data(as_text=True)
        rows = list(csv.DictReader(io.StringIO(text)))
        expected = [{k: "" if v is None else str(v) for k, v in row.items()}
                    for row in programme_rows(_raw(db, start, end))]
        assert rows == expected
        return reports[0]

    return _check


def _month_state(db) -> dict[str, tuple[int, int]]:
    from api.derived.counters import CounterRow

    state = {m.key: (m.changed, m.built) for m in db().scalars(select(CounterRow).where(CounterRow.key != "data_state"))}
    db().commit()
    return state


def _book(client, trust_id, starts_at, status="delivered", **fields) -> dict:
    r = client.post("/api/v1/bookings", json={"trust_id": trust_id, "starts_at": starts_at, "status": status, **fields})
    assert r.status_code == 201, r.json
    return r.json


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json if status != 204 else None


def test_rollup_report_equals_raw_after_every_kind_of_write(coordinator, seeded_topics, create_trust, create_speaker,
                                                           db, same_as_raw):
    a = create_trust(region="london", trust_type="acute").id
    b = create_trust(region="north_west", trust_type="mental_health").id
    c = create_trust(region="midlands", trust_type="community").id
    d = create_trust(region="london", trust_type="acute").id
    ada, ben = create_speaker(name="Dr Ada").id, create_speaker(name="Dr Ben").id
    ada_too = create_speaker(name="Dr Ada").id  # same name: ordered by id among equals

    empty = same_as_raw()
    assert empty["by_month"] == [] and empty["trusts_total"] == 4

    march = _book(coordinator, a, "2025-03-31T22:30:00Z")  # 23:30 BST: still March in London
    april = _book(coordinator, b, "2025-03-31T23:30:00Z")  # 00:30 BST on 1 April
    _book(coordinator, c, "2025-02-28T23:30:00Z")  # GMT: February
    confirmed = _book(coordinator, a, "2025-04-15T09:00:00Z", status="confirmed")
    _book(coordinator, b, "2025-05-10T09:00:00Z", status="cancelled")
    _book(coordinator, d, "2025-03-12T09:00:00Z")
    upcoming = _book(coordinator, c, "2027-01-11T10:00:00Z", status="requested")
    _book(coordinator, a, "2025-10-31T23:30:00Z")  # GMT again: October
    _ok(coordinator.delete(f"/api/v1/trusts/{d}"), 204)  # archived: out of coverage, its session still counts

    report = same_as_raw()
    assert [(m["month"], m["sessions"]) for m in report["by_month"]] == [
        ("2025-02", 1), ("2025-03", 2), ("2025-04", 1), ("2025-10", 1)]
    assert {m: built == changed for m, (changed, built) in _month_state(db).items()} == {
        m: True for m in ("2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09",
                          "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05",
                          "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12", "2027-01")}

    for booking, speaker in ((march, ada), (march, ben), (april, ada_too), (confirmed, ben)):
        _ok(coordinator.put(f"/api/v1/bookings/{booking['id']}/speakers/{speaker}", json={"role": "guest"}))
    report = same_as_raw()
    assert [(s["name"], s["sessions"]) for s in report["sessions_by_speaker"]] == [
        ("Dr Ada", 1), ("Dr Ada", 1), ("Dr Ben", 1)]

    _ok(coordinator.put(f"/api/v1/bookings/{march['id']}/outcome", json={
        "themes": ["data", "prioritisation"], "confidence_before": 2, "confidence_after": 4}))
    _ok(coordinator.put(f"/api/v1/bookings/{april['id']}/outcome", json={
        "themes": ["data"], "confidence_before": 3, "confidence_after": 3}))
    report = same_as_raw()
    assert [(t["slug"], t["count"]) for t in report["themes"]] == [("data", 2), ("prioritisation", 1)]
    assert report["confidence"] == {"mean_before": 2.5, "mean_after": 3.5, "mean_change": 1.0, "responses": 2}

    # Rescheduled across the month boundary: April's figures move to March, speakers and outcome with them.
    before = _month_state(db)
    _ok(coordinator.patch(f"/api/v1/bookings/{april['id']}", json={"starts_at": "2025-03-20T10:00:00Z"}))
    after = _month_state(db)
    assert {m for m in after if after[m][0] != before[m][0]} == {"2025-03", "2025-04"}
    report = same_as_raw()
    assert [(m["month"], m["sessions"]) for m in report["by_month"]] == [
        ("2025-02", 1), ("2025-03", 3), ("2025-10", 1)]

    _ok(coordinator.patch(f"/api/v1/bookings/{confirmed['id']}", json={"status": "delivered"}))
    report = same_as_raw()
    assert ("2025-04", 1) in [(m["month"], m["sessions"]) for m in report["by_month"]]
    assert report["bookings_by_status"]["confirmed"] == 0

    _ok(coordinator.patch(f"/api/v1/bookings/{upcoming['id']}", json={"status": "cancelled"}))
    _ok(coordinator.delete(f"/api/v1/bookings/{april['id']}/speakers/{ada_too}"), 204)
    assert [s["speaker_id"] for s in same_as_raw()["sessions_by_speaker"]] == [ben, ada]
    _ok(coordinator.put(f"/api/v1/bookings/{march['id']}/outcome", json={
        "themes": ["cyber-security"], "confidence_before": 2, "confidence_after": 4},
        headers={"If-Match": "*"}))  # themes alone
    assert [(t["slug"], t["count"]) for t in same_as_raw()["themes"]] == [("cyber-security", 1), ("data", 1)]
    _ok(coordinator.put(f"/api/v1/bookings/{march['id']}/outcome", json={
        "themes": ["cyber-security"], "confidence_before": 2, "confidence_after": 5},
        headers={"If-Match": "*"}))  # scores alone
    _ok(coordinator.put(f"/api/v1/bookings/{april['id']}/outcome", json={"themes": ["data"]},
                        headers={"If-Match": "*"}))  # scores dropped
    report = same_as_raw()
    assert report["confidence"] == {"mean_before": 2.0, "mean_after": 5.0, "mean_change": 3.0, "responses": 1}
    assert report["bookings_by_status"]["cancelled"] == 2
    assert [s["name"] for s in report["sessions_by_speaker"]] == ["Dr Ben", "Dr Ada"]

    # Names and regions are read with the report: renames and moves need no rebuild, yet show at once.
    before = _month_state(db)
    _ok(coordinator.patch(f"/api/v1/speakers/{ben}", json={"name": "Professor Ben"}))
    topic = coordinator.get("/api/v1/topics?page_size=100").json
    cyber = next(t for t in topic if t["slug"] == "cyber-security")
    _ok(coordinator.patch(f"/api/v1/topics/{cyber['id']}", json={"name": "Cyber resilience"}))
    _ok(coordinator.patch(f"/api/v1/trusts/{b}", json={"region": "south_west"}))
    _ok(coordinator.post(f"/api/v1/speakers/{ada}/erase"))
    assert _month_state(db) == before
    report = same_as_raw()
    assert {s["name"] for s in report["sessions_by_speaker"]} == {"Professor Ben", "Erased speaker"}
    assert [t["name"] for t in report["themes"] if t["slug"] == "cyber-security"] == ["Cyber resilience"]
    assert report["by_region"]["south_west"]["trusts_engaged"] == 1


def test_a_report_then_a_write_then_a_report_shows_the_write(coordinator, viewer, create_trust, db):
    trust = create_trust().id
    first = _book(coordinator, trust, "2025-06-10T09:00:00Z")
    assert viewer.get("/api/v1/reports/programme").json["bookings_by_status"]["delivered"] == 1
    _book(coordinator, trust, "2025-06-20T09:00:00Z", status="confirmed")
    after = viewer.get("/api/v1/reports/programme").json
    assert after["bookings_by_status"]["confirmed"] == 1
    _ok(coordinator.patch(f"/api/v1/bookings/{first['id']}", json={"starts_at": "2025-07-01T09:00:00Z"}))
    assert viewer.get("/api/v1/reports/programme").json["by_month"] == [{"month": "2025-07", "sessions": 1}]
    june = viewer.get("/api/v1/reports/programme?from=2025-06-01&to=2025-06-30").json
    assert june["bookings_by_status"]["delivered"] == 0 and june["trusts_engaged"] == 0


def test_months_without_bookings_are_current_once_read(viewer, create_booking, db):
    create_booking(starts_at=datetime(2025, 1, 10, 9, tzinfo=UTC))
    create_booking(starts_at=datetime(2025, 4, 10, 9, tzinfo=UTC))
    assert viewer.get("/api/v1/reports/programme").status_code == 200
    assert _month_state(db) == {"2025-01": (1, 1), "2025-02": (0, 0), "2025-03": (0, 0), "2025-04": (1, 1)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_range_equals_the_raw_report(data, db, create_trust, create_speaker, seeded_topics):
    """Ranges drawn at random over bookings placed on and around month (and clock change) boundaries."""
    from api.bookings.models import Booking, BookingSpeaker
    from api.outcomes.models import Outcome
    from api.reports import service
    from api.topics.models import Topic

    session = db()
    if session.scalar(select(Booking.id).limit(1)) is None:  # the data, once per test (examples share it)
        trusts = [create_trust(region=r).id for r in ("london", "midlands", "north_west")]
        speakers = [create_speaker(name=n).id for n in ("Ann", "Bo", "Ann")]
        topics = list(session.scalars(select(Topic).order_by(Topic.slug)))
        statuses = ("delivered", "delivered", "confirmed", "cancelled", "requested")
        when = datetime(2024, 12, 31, 23, 30, tzinfo=UTC)
        for i in range(60):
            when += timedelta(days=(i * 7) % 11 + 1, hours=(i * 5) % 3 - 1)
            booking = Booking(trust_id=trusts[i % 3], kind="board_development", format="virtual",
                              status=statuses[i % 5], live=i % 5 != 3, starts_at=when, ends_at=when + timedelta(hours=3),
                              timezone="Europe/London", title="Session")
            session.add(booking)
            session.flush()
            for s in speakers[: i % 4]:
                session.add(BookingSpeaker(booking_id=booking.id, speaker_id=s, starts_at=when,
                                           ends_at=when + timedelta(hours=3)))
            if booking.status == "delivered":
                session.add(Outcome(booking_id=booking.id, confidence_before=1 + i % 5, confidence_after=1 + i % 3,
                                    themes=topics[i % 4: i % 4 + i % 3], digital_definitions=[]))
        session.commit()
        service.programme(session, None, None)  # builds every month
        session.commit()
    day = st.dates(min_value=date(2024, 12, 1), max_value=date(2025, 9, 30)) | st.none()
    start, end = data.draw(day), data.draw(day)
    if start and end and end < start:
        start, end = end, start
    assert service.programme(session, start, end) == service.programme_raw(session, start, end)
    session.commit()


def test_bulk_statements_mark_the_months_they_change(db, create_trust, viewer, same_as_raw):
    from api.bookings.models import Booking

    trust = create_trust().id
    session = db()
    rows = [{"id": f"00000000-0000-4000-8000-00000000000{i}", "trust_id": trust, "kind": "board_development",
             "format": "virtual", "status": "delivered", "live": True, "starts_at": when,
             "ends_at": when + timedelta(hours=3), "timezone": "Europe/London", "title": "Bulk", "version": 1}
            for i, when in enumerate((datetime(2025, 1, 31, 23, 30, tzinfo=UTC), datetime(2025, 5, 31, 23, 30, tzinfo=UTC)))]
    session.execute(insert(Booking), rows)  # the benchmark seed's path
    session.commit()
    assert _month_state(db) == {"2025-01": (1, 0), "2025-06": (1, 0)}
    same_as_raw()

    # Columns the report does not count: no month changes (the erasure path clears stored texts like this).
    session.execute(update(Booking).where(Booking.trust_id == trust).values(version=Booking.version + 1)
                    .execution_options(synchronize_session=False))
    session.commit()
    assert _month_state(db) == {"2025-01": (1, 1), "2025-02": (0, 0), "2025-03": (0, 0), "2025-04": (0, 0),
                                "2025-05": (0, 0), "2025-06": (1, 1)}

    # A counted column changed by a statement that names no months: every month is marked.
    session.execute(update(Booking).where(Booking.id == rows[1]["id"]).values(status="cancelled")
                    .execution_options(synchronize_session=False))
    session.commit()
    assert all(changed == built + 1 for changed, built in _month_state(db).values())
    report = same_as_raw()
    assert report["by_month"] == [{"month": "2025-01", "sessions": 1}]


def test_erasing_a_contact_leaves_the_report_equal(coordinator, create_contact, create_booking, db, same_as_raw):
    from types import SimpleNamespace

    contact = create_contact(name="Siân Gwilym")
    booking = create_booking(trust=SimpleNamespace(id=contact.trust_id), attendees=[contact])
    _ok(coordinator.put(f"/api/v1/bookings/{booking.id}/outcome", json={"confidence_before": 1, "confidence_after": 2}))
    same_as_raw()
    before = _month_state(db)
    _ok(coordinator.post(f"/api/v1/contacts/{contact.id}/erase"))
    assert _month_state(db) == before  # a new version of the booking, with its stored texts cleared: nothing counted
    assert same_as_raw()["confidence"]["responses"] == 1


def test_a_write_in_the_same_transaction_is_counted_and_not_stored(db, create_booking):
    from api.bookings.models import Booking
    from api.reports import service

    booking = create_booking(starts_at=datetime(2025, 3, 3, 9, tzinfo=UTC))
    session = db()
    service.programme(session, None, None)
    session.commit()
    session.get(Booking, booking.id).status = "cancelled"  # not committed: this transaction's own view
    report = service.programme(session, None, None)
    assert report["bookings_by_status"]["cancelled"] == 1 and report == service.programme_raw(session, None, None)
    session.commit()
    assert _month_state(db)["2025-03"] == (2, 1)
    assert service.programme(session, None, None)["bookings_by_status"]["cancelled"] == 1
    session.commit()
    assert _month_state(db)["2025-03"] == (2, 2)


def test_a_slot_moved_to_another_booking_marks_both_months(db, create_booking, create_speaker, viewer, same_as_raw):
    from api.bookings.models import BookingSpeaker

    speaker = create_speaker().id
    march = create_booking(starts_at=datetime(2025, 3, 3, 9, tzinfo=UTC))
    may = create_booking(starts_at=datetime(2025, 5, 5, 9, tzinfo=UTC))
    slot = BookingSpeaker(booking_id=march.id, speaker_id=speaker, starts_at=march.starts_at,
                          ends_at=march.starts_at + timedelta(hours=1))
    db().add(slot)
    db().commit()
    assert same_as_raw([(date(2025, 3, 1), date(2025, 3, 31))])["sessions_by_speaker"][0]["sessions"] == 1
    before = _month_state(db)
    slot = db().get(BookingSpeaker, slot.id)
    slot.booking_id, slot.starts_at, slot.ends_at = may.id, may.starts_at, may.starts_at + timedelta(hours=1)
    db().commit()
    after = _month_state(db)
    assert {m for m in after if after[m] != before[m]} == {"2025-03", "2025-05"}
    assert same_as_raw([(date(2025, 3, 1), date(2025, 3, 31))])["sessions_by_speaker"] == []
    assert same_as_raw([(date(2025, 5, 1), date(2025, 5, 31))])["sessions_by_speaker"][0]["sessions"] == 1
