"""The slot finder and the dry-run check over HTTP."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.bookings.conftest import at, book, make_trust, speaker_with, trust  # noqa: F401 (fixtures)
from tests.conftest import problem

WEEKDAYS_9_TO_5 = [(d, "09:00", "17:00") for d in range(5)]
# Monday 2027-01-11 to Saturday 2027-01-16 (GMT, Sydney on daylight time +11).
RANGE = "from=2027-01-11T00:00:00Z&to=2027-01-16T00:00:00Z"


def _slots(client, query):
    return client.get("/api/v1/scheduling/slots?" + query)


def test_slots_for_a_london_trust_and_speaker(viewer, trust, speaker_with):
    london = speaker_with("Europe/London", WEEKDAYS_9_TO_5)
    r = _slots(viewer, f"speaker_ids={london.id}&trust_id={trust.id}&{RANGE}&duration=180&limit=3")
    assert r.status_code == 200, r.json
    assert r.json == [
        {"starts_at": f"2027-01-11T{h}:00Z", "ends_at": f"2027-01-11T{e}:00Z",
         "local_times": {london.id: f"2027-01-11T{h}:00+00:00"}}
        for h, e in (("09:00", "12:00"), ("09:30", "12:30"), ("10:00", "13:00"))]


def test_sydney_and_london_have_no_common_working_time(coordinator, trust, speaker_with):
    london = speaker_with("Europe/London", WEEKDAYS_9_TO_5)
    sydney = speaker_with("Australia/Sydney", WEEKDAYS_9_TO_5)
    both = _slots(coordinator, f"speaker_ids={london.id},{sydney.id}&trust_id={trust.id}&{RANGE}")
    assert both.status_code == 200 and both.json == []
    # Widening the trust's working day to the evening finds Sydney's morning.
    evening = _slots(coordinator, f"speaker_ids={sydney.id}&trust_id={trust.id}&{RANGE}"
                                  "&working_start=19:00&working_end=23:59&duration=60&limit=1")
    assert evening.json == [{"starts_at": "2027-01-11T22:00:00Z", "ends_at": "2027-01-11T23:00:00Z",
                             "local_times": {sydney.id: "2027-01-12T09:00:00+11:00"}}]


def test_slots_skip_the_trusts_and_speakers_bookings(coordinator, trust, make_trust, book, speaker_with):
    speaker = speaker_with()
    book(trust, at("2027-01-11", "09:00"), ends_at=at("2027-01-11", "12:00"))
    elsewhere = book(make_trust(), at("2027-01-11", "12:00")).json
    coordinator.put(f"/api/v1/bookings/{elsewhere['id']}/speakers/{speaker.id}", json={})
    r = _slots(coordinator, f"speaker_ids={speaker.id}&trust_id={trust.id}&{RANGE}&duration=60&step=60&limit=3")
    # 09-12 the trust is busy, 12-15 the speaker is, 15-17 is free; Tuesday 09:00 next.
    assert [s["starts_at"] for s in r.json] == ["2027-01-11T15:00:00Z", "2027-01-11T16:00:00Z",
                                                "2027-01-12T09:00:00Z"]


def test_slot_query_validation(coordinator, trust, speaker_with):
    speaker = speaker_with()
    base = f"speaker_ids={speaker.id}&trust_id={trust.id}"
    cases = {
        f"{base}&from=2027-01-01T00:00:00Z&to=2027-03-15T00:00:00Z": "to",
        f"{base}&from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z": "to",
        f"{base}&{RANGE}&limit=101": "limit",
        f"{base}&{RANGE}&weekdays=7": "weekdays",
        f"{base}&{RANGE}&working_start=18:00&working_end=09:00": "working_end",
        f"{base}&{RANGE}&duration=0": "duration",
        f"speaker_ids=nope&trust_id={trust.id}&{RANGE}": "speaker_ids",
        f"speaker_ids=00000000-0000-4000-8000-000000000000&trust_id={trust.id}&{RANGE}": "speaker_ids",
        f"speaker_ids={speaker.id}&trust_id=00000000-0000-4000-8000-000000000000&{RANGE}": "trust_id",
        f"{base}&from=2027-01-01T00:00:00&to=2027-01-02T00:00:00Z": "from",
        f"{base}&from=0001-01-01T00:00:00Z&to=0001-01-02T00:00:00Z": "from",
    }
    for query, field in cases.items():
        r = _slots(coordinator, query)
        assert r.status_code == 422, query
        assert field in problem(r)["errors"], (query, r.json)


def test_partners_may_not_name_speakers_in_the_slot_finder(partner, trust, speaker_with):
    speaker = speaker_with()
    assert _slots(partner, f"speaker_ids={speaker.id}&trust_id={trust.id}&{RANGE}").status_code == 403
    assert _slots(partner, f"trust_id={trust.id}&{RANGE}").status_code == 200  # by trust (and topic): see test_partner_slots


def test_check_reports_without_writing(coordinator, viewer, trust, make_trust, book, speaker_with, db):
    from api.bookings.models import Booking

    sydney = speaker_with("Australia/Sydney", WEEKDAYS_9_TO_5)
    busy = speaker_with()
    mine = book(trust, at("2027-01-11", "10:00")).json
    other = book(make_trust(), at("2027-01-11", "09:00")).json
    coordinator.put(f"/api/v1/bookings/{other['id']}/speakers/{busy.id}", json={})
    before = db().scalar(select(func.count()).select_from(Booking))
    proposal = {"trust_id": trust.id, "starts_at": at("2027-01-11", "11:00"),
                "speakers": [{"speaker_id": sydney.id}, {"speaker_id": busy.id, "starts_at": at("2027-01-11", "11:00"),
                                                          "ends_at": at("2027-01-11", "12:00")}]}
    r = viewer.post("/api/v1/scheduling/check", json=proposal)
    assert r.status_code == 200, r.json
    assert r.json["ok"] is False
    assert sorted((c["kind"], c["booking_id"]) for c in r.json["conflicts"]) == sorted([
        ("trust_overlap", mine["id"]), ("speaker_overlap", other["id"]), ("outside_availability", None)])
    moved = viewer.post("/api/v1/scheduling/check", json={**proposal, "booking_id": mine["id"], "speakers": [],
                                                          "starts_at": at("2027-01-11", "11:00")})
    assert moved.json == {"ok": True, "conflicts": []}
    assert db().scalar(select(func.count()).select_from(Booking)) == before
    bad = viewer.post("/api/v1/scheduling/check", json={**proposal, "speakers": [
        {"speaker_id": busy.id, "starts_at": at("2027-01-11", "08:00"), "ends_at": at("2027-01-11", "09:00")}]})
    assert bad.status_code == 422
