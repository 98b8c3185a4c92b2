"""Masterclass seats and attendee overlap under simultaneous requests against a real server (SQLite and
PostgreSQL, whichever the run uses): of N registrations for the last seat exactly one is registered and the
rest are waitlisted in arrival order; of N overlapping registrations of one person exactly one stands."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.bookings.test_concurrency import _fire, _tally

N = 16
_codes = itertools.count(1)


@pytest.fixture(scope="module")
def live(live_server):
    token = live_server.token("coordinator")
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        yield live_server, token, client


def _ok(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def _people(client, n: int) -> list[str]:
    code = f"R{next(_codes):04X}"
    trust = _ok(client.post("/api/v1/trusts", json={"name": f"Race Trust {code}", "ods_code": code, "region": "london"}))
    return [_ok(client.post(f"/api/v1/trusts/{trust['id']}/contacts", json={"name": f"Person {i}"}))["id"]
            for i in range(n)]


def _class(client, starts_at: datetime, capacity: int) -> str:
    return _ok(client.post("/api/v1/bookings", json={"kind": "masterclass", "starts_at": starts_at.isoformat(),
                                                     "capacity": capacity}))["id"]


@pytest.mark.parametrize("round_", range(2))
def test_simultaneous_registrations_for_the_last_seat(live, round_):
    server, token, client = live
    course = _class(client, datetime(2027, 6, 1, 10, tzinfo=UTC) + timedelta(days=round_), capacity=3)
    first, second, *racers = _people(client, N + 2)
    for person in (first, second):
        assert _ok(client.post(f"/api/v1/bookings/{course}/registrations", json={"contact_id": person}))["status"] == \
            "registered"
    responses = _fire(server.url, token, [("POST", f"/api/v1/bookings/{course}/registrations", {"contact_id": p})
                                          for p in racers])
    counts = _tally("last seat", responses)
    assert counts[201] == N, counts
    places = sorted((r.json() for r in responses), key=lambda p: p["position"])
    assert [p["status"] for p in places] == ["registered"] + ["waitlisted"] * (N - 1)
    assert [p["position"] for p in places] == list(range(3, N + 3))
    # Arrival order: the waiting list is in the order the places were taken.
    assert [p["created_at"] for p in places] == sorted(p["created_at"] for p in places)
    booking = _ok(client.get(f"/api/v1/bookings/{course}"), 200)
    assert (booking["registered_count"], booking["waitlisted_count"], booking["seats_left"]) == (3, N - 1, 0)


def test_simultaneous_registrations_of_one_person_for_overlapping_classes(live):
    server, token, client = live
    base = datetime(2027, 7, 1, 10, tzinfo=UTC)
    classes = [_class(client, base + timedelta(minutes=10 * i), capacity=5) for i in range(N)]
    (person,) = _people(client, 1)
    responses = _fire(server.url, token, [("POST", f"/api/v1/bookings/{c}/registrations", {"contact_id": person})
                                          for c in classes])
    counts = _tally("attendee overlap", responses)
    assert not [r for r in responses if r.status_code >= 500]
    assert counts[201] == 1 and counts[409] == N - 1, counts
    winner = next(r for r in responses if r.status_code == 201).json()
    assert winner["status"] == "registered"
    for r in responses:
        if r.status_code == 409:
            assert [(c["kind"], c["booking_id"]) for c in r.json()["conflicts"]] == \
                [("attendee_overlap", winner["booking_id"])]
