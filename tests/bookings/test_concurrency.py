"""Of N simultaneous overlapping requests against a real server, exactly one wins and none is a 5xx."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import httpx
import pytest

N = 24


@pytest.fixture(scope="module")
def live(live_server):
    token = live_server.token("coordinator")
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        yield live_server, token, client


_ods_numbers = itertools.count(1)  # the live server's database is new for this module: unique codes


def _trust(client) -> str:
    ods = f"C{next(_ods_numbers):04X}"
    r = client.post("/api/v1/trusts", json={"name": f"Concurrency Trust {ods}", "ods_code": ods, "region": "london"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _speaker(client) -> str:
    r = client.post("/api/v1/speakers", json={"name": "Dr Busy", "timezone": "Australia/Sydney"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _fire(url: str, token: str, requests: list[tuple[str, str, dict]], headers: dict | None = None) -> list[httpx.Response]:
    """Send every request from its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(requests))
    results: list[httpx.Response | Exception] = [None] * len(requests)  # type: ignore[list-item]

    def run(i: int, method: str, path: str, body: dict) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}", **(headers or {})},
                          timeout=60) as client:
            client.get("/healthz")  # connect first, so the race is the requests themselves
            barrier.wait()
            try:
                results[i] = client.request(method, path, json=body)
            except Exception as exc:  # noqa: BLE001 - reported in the assertion below
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i, *req)) for i, req in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r for r in results if isinstance(r, Exception)]
    print(f"\n{len(requests)} requests, transport errors: {[repr(e) for e in errors]}")
    assert not errors, errors
    return results  # type: ignore[return-value]


def _tally(kind: str, responses: list[httpx.Response]) -> Counter:
    counts = Counter(r.status_code for r in responses)
    print(f"\n{kind}: {len(responses)} requests -> {dict(sorted(counts.items()))}")
    return counts


@pytest.mark.parametrize("round_", range(3))
def test_simultaneous_overlapping_creates_for_one_trust(live, round_):
    server, token, client = live
    trust_id = _trust(client)
    base = datetime(2027, 3, 1, 10, tzinfo=timezone.utc) + timedelta(days=round_)
    requests = [("POST", "/api/v1/bookings",
                 {"trust_id": trust_id, "starts_at": (base + timedelta(minutes=5 * i)).isoformat()})
                for i in range(N)]
    responses = _fire(server.url, token, requests)
    counts = _tally("creates", responses)
    assert not [r for r in responses if r.status_code >= 500]
    assert counts[201] == 1 and counts[409] == N - 1, counts
    winner = next(r for r in responses if r.status_code == 201).json()["id"]
    for r in responses:
        if r.status_code == 409:
            assert [c["booking_id"] for c in r.json()["conflicts"]] == [winner]
            assert r.json()["conflicts"][0]["kind"] == "trust_overlap"
    listed = client.get("/api/v1/bookings", params={"trust_id": trust_id}).json()
    assert [b["id"] for b in listed] == [winner]


@pytest.mark.parametrize("round_", range(3))
def test_simultaneous_puts_of_one_speaker_onto_overlapping_bookings(live, round_):
    server, token, client = live
    speaker_id = _speaker(client)
    base = datetime(2027, 4, 1, 10, tzinfo=timezone.utc) + timedelta(days=round_)
    bookings = []
    for i in range(N):
        r = client.post("/api/v1/bookings", json={"trust_id": _trust(client),
                                                  "starts_at": (base + timedelta(minutes=5 * i)).isoformat()})
        assert r.status_code == 201, r.text
        bookings.append(r.json()["id"])
    requests = [("PUT", f"/api/v1/bookings/{b}/speakers/{speaker_id}", {"role": "guest"}) for b in bookings]
    responses = _fire(server.url, token, requests)
    counts = _tally("speaker puts", responses)
    assert not [r for r in responses if r.status_code >= 500]
    assert counts[200] == 1 and counts[409] == N - 1, counts
    for r in responses:
        if r.status_code == 409:
            assert {c["kind"] for c in r.json()["conflicts"]} == {"speaker_overlap"}
    held = client.get("/api/v1/bookings", params={"speaker_id": speaker_id}).json()
    assert len(held) == 1


def test_simultaneous_reschedules_onto_one_time(live):
    """Bookings of one trust moved at once onto the same time: one moves, the rest are refused."""
    server, token, client = live
    trust_id = _trust(client)
    base = datetime(2027, 5, 3, 9, tzinfo=timezone.utc)
    ids = []
    for i in range(N):
        r = client.post("/api/v1/bookings", json={"trust_id": trust_id, "starts_at": (base + timedelta(days=i)).isoformat()})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    target = (base - timedelta(days=7)).isoformat()
    requests = [("PATCH", f"/api/v1/bookings/{b}", {"starts_at": target}) for b in ids]
    responses = _fire(server.url, token, requests, {"If-Match": "*"})
    counts = _tally("reschedules", responses)
    assert not [r for r in responses if r.status_code >= 500]
    assert counts[200] == 1 and counts[409] == N - 1, counts

