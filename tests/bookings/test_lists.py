"""Booking lists: filters, sorting, partner scoping, and a constant number of queries per page."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from tests.bookings.conftest import at, iso
from tests.conftest import problem


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [b["id"] for b in response.json]


@pytest.fixture
def programme(coordinator, make_trust, book, speaker_with, seeded_topics, partner):
    """Four bookings across two trusts, regions, kinds, formats, statuses and a partner."""
    leeds = make_trust(region="north_east_and_yorkshire")
    barts = make_trust(region="london")
    speaker = speaker_with()
    a = book(leeds, at("2027-01-11", "10:00"), title="Alpha", topics=["data"]).json
    b = book(barts, at("2027-01-12", "10:00"), title="Bravo", kind="masterclass", format="hybrid",
             location="Barts").json
    c = book(leeds, at("2027-02-01", "10:00"), title="Charlie", status="confirmed").json
    d = book(barts, iso(datetime.now(timezone.utc) + timedelta(days=400)), client=partner, title="Delta",
             external_ref="NHSP-9").json
    coordinator.put(f"/api/v1/bookings/{b['id']}/speakers/{speaker.id}", json={})
    coordinator.patch(f"/api/v1/bookings/{c['id']}", json={"status": "cancelled"})
    return {"leeds": leeds, "barts": barts, "speaker": speaker, "a": a["id"], "b": b["id"], "c": c["id"],
            "d": d["id"]}


def test_filters(coordinator, programme):
    p = programme
    get = lambda q: _ids(coordinator.get("/api/v1/bookings" + q))  # noqa: E731
    assert get("") == [p["a"], p["b"], p["d"]]  # cancelled left out, earliest first
    assert get("?status=cancelled") == [p["c"]]
    assert get("?status=requested,cancelled") == [p["a"], p["b"], p["c"], p["d"]]
    assert get(f"?trust_id={p['leeds'].id}") == [p["a"]]
    assert get(f"?speaker_id={p['speaker'].id}") == [p["b"]]
    assert get("?kind=masterclass") == [p["b"]]
    assert get("?format=hybrid") == [p["b"]]
    assert get("?region=london") == [p["b"], p["d"]]
    assert get("?from=2027-01-11T12:59:00Z&to=2027-01-12T10:00:01Z") == [p["a"], p["b"]]
    assert get("?from=2027-01-11T13:00:00Z&to=2027-01-12T10:00:00Z") == []  # touching is not overlapping
    assert get("?external_ref=NHSP-9") == [p["d"]]
    assert get("?sort=-title") == [p["d"], p["b"], p["a"]]
    assert get("?sort=status,title") == [p["a"], p["b"], p["d"]]


def test_updated_since_includes_cancelled(coordinator, programme):
    everything = _ids(coordinator.get("/api/v1/bookings?updated_since=2000-01-01T00:00:00Z"))
    assert programme["c"] in everything and len(everything) == 4
    future = coordinator.get("/api/v1/bookings?updated_since=2999-01-01T00:00:00%2B00:00")
    assert _ids(future) == []


def test_bad_list_arguments_are_422(coordinator):
    for query in ("status=done", "sort=colour", "region=mars", "from=2027-01-11T10:00:00", "trust_id=x",
                  "page_size=101", "from=2027-01-12T00:00:00Z&to=2027-01-11T00:00:00Z"):
        r = coordinator.get("/api/v1/bookings?" + query)
        assert r.status_code == 422, query
        problem(r)


def test_partner_list_is_scoped_and_redacted(partner, other_partner, programme):
    # Its own bookings, and the masterclass the programme team runs (SPEC, Masterclasses); nothing else.
    mine = partner.get("/api/v1/bookings?updated_since=2000-01-01T00:00:00Z&kind=board_development")
    assert _ids(mine) == [programme["d"]]
    assert "notes" not in mine.json[0] and "attendee_ids" not in mine.json[0]
    assert set(_ids(partner.get("/api/v1/bookings?updated_since=2000-01-01T00:00:00Z"))) == {programme["b"], programme["d"]}
    assert _ids(other_partner.get("/api/v1/bookings")) == [programme["b"]]
    assert _ids(partner.get(f"/api/v1/bookings?partner_id={mine.json[0]['partner_id']}&status=confirmed")) == []


def test_pagination_headers(coordinator, programme):
    r = coordinator.get("/api/v1/bookings?page_size=2")
    assert json.loads(r.headers["X-Pagination"])["total"] == 3
    assert 'rel="next"' in r.headers["Link"] and len(r.json) == 2


@contextmanager
def counting(engine):
    statements: list[str] = []

    def _count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def test_list_runs_a_constant_number_of_queries(coordinator, partner, engine, make_trust, book, speaker_with,
                                                make_contact, seeded_topics):
    trust = make_trust()
    chair = make_contact(trust)
    speakers = [speaker_with(name=f"Speaker {i}") for i in range(2)]
    first = datetime(2027, 1, 4, 10, tzinfo=timezone.utc)
    for day in range(55):
        b = book(trust, iso(first + timedelta(days=day)), topics=["data", "prioritisation"],
                 attendee_ids=[chair.id]).json
        for speaker in speakers:
            assert coordinator.put(f"/api/v1/bookings/{b['id']}/speakers/{speaker.id}", json={}).status_code == 200
    counts = {}
    for size in (5, 50):
        with counting(engine) as statements:
            r = coordinator.get(f"/api/v1/bookings?page_size={size}")
        assert len(r.json) == size and len(r.json[-1]["speakers"]) == 2 and r.json[-1]["topics"]
        counts[size] = len([s for s in statements if s.lstrip().upper().startswith("SELECT")])
    print("queries per list request", counts)
    assert counts[5] == counts[50], counts
    assert counts[50] <= 8, counts  # token, count, page, topics, attendees, speakers (+ the speaker join)

