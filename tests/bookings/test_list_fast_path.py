"""GET /bookings and GET /bookings/{id} serve the stored JSON documents: always BookingSchema's dump of now.

The documents are rendered on every booking write and cleared when something they show changes
elsewhere (a speaker's name, a topic's slug, an erasure); these tests compare what a client reads
with a fresh dump of the ORM object after each kind of change.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import selectinload

from tests.bookings.conftest import iso, statements_of as _statements


def _schema_dump(db, ids: list[str], partner: bool) -> list[dict]:
    from api.bookings import service
    from api.bookings.models import Booking, BookingSpeaker
    from api.bookings.schemas import BookingSchema
    from api.web import Redacted

    session = db()
    session.expire_all()
    rows = session.scalars(select(Booking).where(Booking.id.in_(ids)).options(
        selectinload(Booking.topics), selectinload(Booking.attendees),
        selectinload(Booking.speakers).joinedload(BookingSpeaker.speaker))).all()
    by_id = {b.id: b for b in rows}
    objs = [Redacted(by_id[i], service.PARTNER_HIDDEN) if partner else by_id[i] for i in ids]
    return json.loads(json.dumps(BookingSchema(many=True).dump(objs)))


def _programme(coordinator, partner, make_trust, make_contact, book, speaker_with, seeded_topics):
    trust = make_trust()
    chairs = [make_contact(trust, name=f"Chair {c}") for c in "BA"]
    speakers = [speaker_with(name=f"Speaker {n}") for n in ("Zed", "Amy", "Bea")]
    first = datetime(2027, 3, 1, 9, 30, 15, 120000, tzinfo=timezone.utc)
    for day in range(7):
        starts = first + timedelta(days=day)
        body = {"topics": ["data", "prioritisation"][: day % 3], "attendee_ids": [c.id for c in chairs][: day % 3],
                "notes": "internal" if day % 2 else None, "brief": "Brief", "location": None}
        r = book(trust, starts.isoformat(), **{k: v for k, v in body.items() if v is not None})
        assert r.status_code == 201, r.json
        for i, speaker in enumerate(speakers[: day % 4]):
            slot = {} if i else {"starts_at": iso(starts + timedelta(hours=1)), "ends_at": iso(starts + timedelta(hours=2))}
            assert coordinator.put(f"/api/v1/bookings/{r.json['id']}/speakers/{speaker.id}", json=slot).status_code == 200
    mine = book(trust, iso(datetime.now(timezone.utc) + timedelta(days=300)), client=partner, external_ref="P-1",
                topics=["data"])
    assert mine.status_code == 201, mine.json
    coordinator.patch(f"/api/v1/bookings/{mine.json['id']}", json={"status": "cancelled", "cancel_reason": "Moved"},
                      headers={"If-Match": "*"})


def test_fast_path_json_equals_the_schema_dump(coordinator, partner, db, make_trust, make_contact, book, speaker_with,
                                               seeded_topics):
    _programme(coordinator, partner, make_trust, make_contact, book, speaker_with, seeded_topics)
    for client, is_partner, query in ((coordinator, False, "?page_size=5"), (coordinator, False, "?page=2&page_size=5"),
                                      (coordinator, False, "?updated_since=2000-01-01T00:00:00Z&sort=-starts_at"),
                                      (partner, True, "?updated_since=2000-01-01T00:00:00Z")):
        r = client.get("/api/v1/bookings" + query)
        assert r.status_code == 200 and r.json, query
        assert r.json == _schema_dump(db, [b["id"] for b in r.json], is_partner), query
        if is_partner:
            assert all("notes" not in b and "attendee_ids" not in b for b in r.json)
        else:
            assert any(b["speakers"] and b["attendee_ids"] and b["notes"] for b in r.json) or "page=2" in query


def test_pagination_headers_and_the_cached_total_follow_writes(coordinator, trust, book):
    for day in range(3):
        book(trust, iso(datetime(2027, 5, 3, 10, tzinfo=timezone.utc) + timedelta(days=day)))
    r = coordinator.get("/api/v1/bookings?page_size=2")
    assert json.loads(r.headers["X-Pagination"]) == {"total": 3, "total_pages": 2, "first_page": 1, "last_page": 2,
                                                      "page": 1, "next_page": 2}
    assert 'rel="next"' in r.headers["Link"] and "page=2" in r.headers["Link"]
    assert json.loads(coordinator.get("/api/v1/bookings?page_size=2").headers["X-Pagination"])["total"] == 3
    extra = book(trust, iso(datetime(2027, 6, 1, 10, tzinfo=timezone.utc))).json
    assert json.loads(coordinator.get("/api/v1/bookings?page_size=2").headers["X-Pagination"])["total"] == 4
    coordinator.patch(f"/api/v1/bookings/{extra['id']}", json={"status": "cancelled"}, headers={"If-Match": "*"})
    assert json.loads(coordinator.get("/api/v1/bookings?page_size=2").headers["X-Pagination"])["total"] == 3
    assert json.loads(coordinator.get("/api/v1/bookings?status=cancelled").headers["X-Pagination"])["total"] == 1


def test_at_most_five_statements_whatever_the_page_size(coordinator, engine, trust, book, speaker_with,
                                                         seeded_topics):
    speaker = speaker_with()
    for day in range(55):
        b = book(trust, iso(datetime(2027, 1, 4, 10, tzinfo=timezone.utc) + timedelta(days=day)), topics=["data"]).json
        coordinator.put(f"/api/v1/bookings/{b['id']}/speakers/{speaker.id}", json={})
    for size in (5, 50):
        statements: list[str] = []
        listener = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            r = coordinator.get(f"/api/v1/bookings?page_size={size}")
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert len(r.json) == size and r.json[-1]["speakers"] and r.json[-1]["topics"] == ["data"]
        # token lookup, page of stored documents (with the data state), count (first time for this filter)
        queries = [s for s in statements if s.lstrip().split(None, 1)[0].upper() not in
                   ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")]
        assert len(queries) == 3, queries  # + BEGIN on SQLite in production: at most 5 statements
        r, queries = _statements(engine, lambda: coordinator.get(f"/api/v1/bookings?page_size={size}"))
        assert len(r.json) == size and len(queries) == 2, queries  # the count is cached until a write


def test_get_fast_path_json_and_etag_equal_the_schema_dump(coordinator, partner, db, engine, make_trust, make_contact,
                                                           book, speaker_with, seeded_topics):
    from api.bookings.models import Booking
    from api.web import etag_of

    _programme(coordinator, partner, make_trust, make_contact, book, speaker_with, seeded_topics)
    every = coordinator.get("/api/v1/bookings?updated_since=2000-01-01T00:00:00Z&page_size=50").json
    mine = [b["id"] for b in partner.get("/api/v1/bookings?updated_since=2000-01-01T00:00:00Z").json]
    assert len(every) == 8 and len(mine) == 1
    cases = [(coordinator, False, b["id"]) for b in every] + [(partner, True, mine[0])]
    for client, is_partner, booking_id in cases:
        r, queries = _statements(engine, lambda: client.get(f"/api/v1/bookings/{booking_id}"))
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
        assert r.json == _schema_dump(db, [booking_id], is_partner)[0]
        session = db()
        session.expire_all()
        assert r.headers["ETag"] == etag_of(session.get(Booking, booking_id), "partner" if is_partner else "full")
        assert len(queries) == 2, queries  # token, booking (its stored document)
        again, queries = _statements(engine, lambda: client.get(f"/api/v1/bookings/{booking_id}",
                                                                headers={"If-None-Match": r.headers["ETag"]}))
        assert again.status_code == 304 and again.headers["ETag"] == r.headers["ETag"] and not again.data
        assert len(queries) == 2, queries  # token, booking
    hidden = next(b["id"] for b in every if b["id"] != mine[0])
    assert partner.get(f"/api/v1/bookings/{hidden}").status_code == 404
    assert coordinator.get("/api/v1/bookings/00000000-0000-4000-8000-000000000000").status_code == 404


def _list_equals_dump(client, db, is_partner: bool, query: str = "?updated_since=2000-01-01T00:00:00Z&page_size=50"):
    r = client.get("/api/v1/bookings" + query)
    assert r.status_code == 200 and r.json
    assert r.json == _schema_dump(db, [b["id"] for b in r.json], is_partner)
    for booking in r.json:
        one = client.get(f"/api/v1/bookings/{booking['id']}")
        assert one.status_code == 200 and one.json == booking
    return r.json


def _stored(db, booking_ids) -> dict:
    from api.bookings.models import BookingRendering as R

    session = db()
    session.expire_all()
    return dict(session.execute(select(R.booking_id, R.api_doc).where(R.booking_id.in_(booking_ids))).all())


@pytest.fixture
def listed(coordinator, partner, db, make_trust, make_contact, book, speaker_with, seeded_topics) -> list[dict]:
    """The programme booked, and the coordinator's list of it (already checked against the schema dump)."""
    _programme(coordinator, partner, make_trust, make_contact, book, speaker_with, seeded_topics)
    return _list_equals_dump(coordinator, db, False)


def test_renames_new_slugs_and_renamed_attendees_show_at_once_in_lists_and_gets(coordinator, partner, db, listed):
    # Attendees are listed in name order (Chair A, Chair B): renaming one reorders them.
    both = [b for b in listed if len(b["attendee_ids"]) == 2]
    first = both[0]["attendee_ids"][0]
    r = coordinator.patch(f"/api/v1/contacts/{first}", json={"name": "Chair Z"},
                          headers={"If-Match": coordinator.get(f"/api/v1/contacts/{first}").headers["ETag"]})
    assert r.status_code == 200, r.json
    reordered = {b["id"]: b["attendee_ids"] for b in _list_equals_dump(coordinator, db, False)}
    assert all(reordered[b["id"]] == b["attendee_ids"][::-1] for b in both)

    slot = next(s for b in listed for s in b["speakers"])
    speaker = coordinator.get(f"/api/v1/speakers/{slot['speaker_id']}")
    r = coordinator.patch(f"/api/v1/speakers/{slot['speaker_id']}", json={"name": "Dr Renamed"},
                          headers={"If-Match": speaker.headers["ETag"]})
    assert r.status_code == 200, r.json
    topic = next(t for t in coordinator.get("/api/v1/topics?page_size=100").json if t["slug"] == "data")
    r = coordinator.patch(f"/api/v1/topics/{topic['id']}", json={"slug": "data-and-insight"},
                          headers={"If-Match": coordinator.get(f"/api/v1/topics/{topic['id']}").headers["ETag"]})
    assert r.status_code == 200, r.json

    after = _list_equals_dump(coordinator, db, False)
    names = {s["name"] for b in after for s in b["speakers"] if s["speaker_id"] == slot["speaker_id"]}
    assert names == {"Dr Renamed"}
    assert any("data-and-insight" in b["topics"] for b in after) and not any("data" in b["topics"] for b in after)
    _list_equals_dump(partner, db, True)
    # The documents rendered by those reads were stored: the next read only joins them.
    assert all(_stored(db, [b["id"] for b in after]).values())


def test_documents_cleared_or_never_rendered_are_rendered_on_read_and_stored(coordinator, partner, db, engine,
                                                                            listed):
    from sqlalchemy import update

    from api.bookings.models import BookingRendering

    expected = listed
    ids = [b["id"] for b in expected]
    session = db()
    session.execute(update(BookingRendering).values(api_doc=None, api_doc_partner=None))  # as after migration 0002
    session.commit()
    assert not any(_stored(db, ids).values())

    r, queries = _statements(engine, lambda: coordinator.get("/api/v1/bookings?updated_since=2000-01-01T00:00:00Z"))
    assert r.json == expected and len(queries) > 3  # rendered from the ORM: relationships loaded per page
    assert all(_stored(db, ids).values())
    r, queries = _statements(engine, lambda: coordinator.get("/api/v1/bookings?updated_since=2000-01-01T00:00:00Z"))
    assert r.json == expected and len(queries) == 2, queries
    _list_equals_dump(partner, db, True)


def test_an_erased_speaker_leaves_no_name_in_booking_documents(coordinator, db, listed):
    slot = next(s for b in listed for s in b["speakers"])
    r = coordinator.post(f"/api/v1/speakers/{slot['speaker_id']}/erase")
    assert r.status_code in (200, 204), r.get_data(as_text=True)
    after = _list_equals_dump(coordinator, db, False)
    assert slot["name"] not in json.dumps(after)
