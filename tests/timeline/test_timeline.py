"""GET /trusts/{id}/timeline: a trust's story in one list, newest first, paginated, filtered, in a constant
number of statements, for coordinators and viewers only."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.conftest import problem


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def _story(c, ods="RR8", sessions=1):
    """A trust with an interview, then per session a delivered booking with an outcome and two next steps, and
    finally an upcoming booking."""
    trust = _ok(c.post("/api/v1/trusts", json={"name": f"Trust {ods}", "ods_code": ods, "region": "london"}), 201)
    t = f"/api/v1/trusts/{trust['id']}"
    _ok(c.post(f"{t}/interactions", json={"kind": "interview", "occurred_at": "2024-01-10T09:00:00Z",
                                          "summary": "Interview with the chair."}), 201)
    for n in range(sessions):
        booking = _ok(c.post("/api/v1/bookings", json={
            "trust_id": trust["id"], "starts_at": f"2024-{2 + n % 10:02d}-{1 + n // 10:02d}T10:00:00Z",
            "status": "delivered", "title": f"Session {n}"}), 201)
        _ok(c.put(f"/api/v1/bookings/{booking['id']}/outcome", json={
            "summary": f"Board agreed a definition of digital ({n}).",
            "next_steps": [{"description": f"Add digital to every agenda ({n})"},
                           {"description": f"Appoint a digital NED ({n})"}]}))
    _ok(c.post("/api/v1/bookings", json={"trust_id": trust["id"], "starts_at": "2030-03-05T10:00:00Z",
                                         "status": "confirmed", "title": "Follow-up"}), 201)
    return trust["id"]


def test_one_list_newest_first_with_kinds_and_summaries(coordinator, viewer):
    trust_id = _story(coordinator)
    entries = _ok(viewer.get(f"/api/v1/trusts/{trust_id}/timeline"))
    assert [e["kind"] for e in entries] == ["booking", "next_step", "next_step", "outcome", "booking", "interaction"]
    assert entries[0]["summary"] == "Follow-up (confirmed)" and entries[0]["at"] == "2030-03-05T10:00:00Z"
    assert entries[0]["booking_id"] == entries[0]["id"]
    assert {e["summary"] for e in entries[1:3]} == {"Add digital to every agenda (0)", "Appoint a digital NED (0)"}
    outcome, session, interview = entries[3], entries[4], entries[5]
    assert outcome["summary"] == "Board agreed a definition of digital (0)."
    assert outcome["at"] == "2024-02-01T13:00:00Z"  # when the session ended
    assert outcome["booking_id"] == session["id"] == entries[1]["booking_id"]
    assert session["summary"] == "Session 0 (delivered)" and session["at"] == "2024-02-01T10:00:00Z"
    assert interview == {"kind": "interaction", "at": "2024-01-10T09:00:00Z", "id": interview["id"],
                         "booking_id": None, "summary": "interview: Interview with the chair."}
    outcome_doc = _ok(coordinator.get(f"/api/v1/bookings/{session['id']}/outcome"))
    assert outcome_doc["id"] == outcome["id"]
    assert {s["id"] for s in outcome_doc["next_steps"]} == {entries[1]["id"], entries[2]["id"]}

    oldest = _ok(coordinator.get(f"/api/v1/trusts/{trust_id}/timeline?sort=at"))
    assert [e["id"] for e in oldest] == [e["id"] for e in reversed(entries)]


def test_masterclass_places_of_the_trusts_people_are_in_it(coordinator):
    trust_id = _story(coordinator)
    member = _ok(coordinator.post(f"/api/v1/trusts/{trust_id}/contacts", json={"name": "Ada Chair", "role": "Chair"}), 201)
    other = _ok(coordinator.post("/api/v1/trusts", json={"name": "Trust RX1", "ods_code": "RX1", "region": "london"}), 201)
    outsider = _ok(coordinator.post(f"/api/v1/trusts/{other['id']}/contacts", json={"name": "Bo", "role": "Chair"}), 201)
    klass = _ok(coordinator.post("/api/v1/bookings", json={
        "kind": "masterclass", "starts_at": "2030-06-03T10:00:00Z", "capacity": 10,
        "title": "User-centred design for NHS leaders"}), 201)
    mine = _ok(coordinator.post(f"/api/v1/bookings/{klass['id']}/registrations", json={"contact_id": member["id"]}), 201)
    _ok(coordinator.post(f"/api/v1/bookings/{klass['id']}/registrations", json={"contact_id": outsider["id"]}), 201)
    entries = _ok(coordinator.get(f"/api/v1/trusts/{trust_id}/timeline?kind=registration"))
    assert entries == [{"kind": "registration", "at": mine["created_at"], "id": mine["id"], "booking_id": klass["id"],
                        "summary": "Masterclass place: User-centred design for NHS leaders (registered)"}]
    assert "registration" in {e["kind"] for e in _ok(coordinator.get(f"/api/v1/trusts/{trust_id}/timeline"))}


def test_filter_kind_paginate_and_updated_since(coordinator):
    trust_id = _story(coordinator, sessions=3)
    url = f"/api/v1/trusts/{trust_id}/timeline"
    both = _ok(coordinator.get(f"{url}?kind=interaction,outcome"))
    assert [e["kind"] for e in both] == ["outcome"] * 3 + ["interaction"]
    first = coordinator.get(f"{url}?page=1&page_size=5")
    everything = _ok(coordinator.get(f"{url}?page_size=100"))
    assert len(everything) == 1 + 3 * 4 + 1
    assert '"total": 14' in first.headers["X-Pagination"] and 'rel="next"' in first.headers["Link"]
    pages = [e for p in (1, 2, 3) for e in _ok(coordinator.get(f"{url}?page={p}&page_size=5"))]
    assert [e["id"] for e in pages] == [e["id"] for e in everything]
    assert _ok(coordinator.get(f"{url}?updated_since=2999-01-01T00:00:00Z")) == []
    assert len(_ok(coordinator.get(f"{url}?updated_since=2000-01-01T00:00:00Z&page_size=100"))) == 14

    for bad in ("kind=meeting", "kind=,", "sort=summary", "page_size=101"):
        assert problem(coordinator.get(f"{url}?{bad}"))["status"] == 422, bad


def test_csv(coordinator):
    trust_id = _story(coordinator)
    response = coordinator.get(f"/api/v1/trusts/{trust_id}/timeline?kind=booking", headers={"Accept": "text/csv"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert [r["summary"] for r in rows] == ["Follow-up (confirmed)", "Session 0 (delivered)"]
    assert list(rows[0]) == ["kind", "at", "id", "booking_id", "summary"]


def test_partners_are_refused_and_unknown_trusts_are_404(coordinator, partner, anon):
    trust_id = _story(coordinator)
    assert problem(partner.get(f"/api/v1/trusts/{trust_id}/timeline"))["status"] == 403
    assert problem(anon.get(f"/api/v1/trusts/{trust_id}/timeline"))["status"] == 401
    assert problem(coordinator.get("/api/v1/trusts/00000000-0000-0000-0000-000000000000/timeline"))["status"] == 404
    assert coordinator.get("/api/v1/trusts/not-a-uuid/timeline").status_code == 404


def test_other_trusts_entries_are_not_in_it(coordinator):
    mine, theirs = _story(coordinator, "RR8"), _story(coordinator, "RJ1")
    own_ids = {e["id"] for e in _ok(coordinator.get(f"/api/v1/trusts/{mine}/timeline"))}
    other_ids = {e["id"] for e in _ok(coordinator.get(f"/api/v1/trusts/{theirs}/timeline"))}
    assert own_ids and other_ids and not own_ids & other_ids


@pytest.fixture
def statements(engine):
    @contextmanager
    def _count():
        seen: list[str] = []

        def _record(_conn, _cursor, statement, _params, _context, _many):
            head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
            if head not in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
                seen.append(statement)

        event.listen(engine, "before_cursor_execute", _record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", _record)

    return _count


def test_the_same_number_of_statements_whatever_the_history(coordinator, statements):
    small, large = _story(coordinator, "RR8", sessions=1), _story(coordinator, "RJ1", sessions=12)
    counts = []
    for trust_id in (small, large):
        coordinator.get(f"/api/v1/trusts/{trust_id}/timeline")  # warm: token and caches
        with statements() as seen:
            entries = _ok(coordinator.get(f"/api/v1/trusts/{trust_id}/timeline?page_size=100"))
        counts.append(len([s for s in seen if "UNION ALL" in s]))
        counts.append(len(seen))
        assert len(entries) in (6, 1 + 12 * 4 + 1)
    assert counts[0] == counts[2] == 2, counts  # the count and the page: one UNION ALL each
    assert counts[1] == counts[3] <= 4, counts  # with the trust's lookup (and the token's)
