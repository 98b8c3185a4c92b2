"""Concurrency claims, against a real gunicorn server (several processes, committed data)."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

TRUST = {"name": "Concurrent Trust", "region": "london"}


@pytest.fixture(scope="module")
def bearer(live_server):
    return {"Authorization": f"Bearer {live_server.token('coordinator')}"}


def _fire(n: int, send) -> list[httpx.Response]:
    """Run ``send`` from n threads released at the same moment."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        with httpx.Client(timeout=60) as http:
            barrier.wait()
            try:
                results[i] = send(http, i)
            except httpx.HTTPError as exc:  # pragma: no cover - reported by the assertion below
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_same_idempotency_key_from_ten_threads_creates_one_trust(live_server, bearer):
    headers = {**bearer, "Idempotency-Key": "ten-at-once"}
    body = {**TRUST, "ods_code": "CC1"}
    results = _fire(10, lambda http, _i: http.post(live_server.url + "/api/v1/trusts", json=body, headers=headers))
    assert all(isinstance(r, httpx.Response) for r in results), results
    statuses = sorted(r.status_code for r in results)
    assert all(s in (201, 409) for s in statuses), statuses
    created = [r for r in results if r.status_code == 201]
    originals = [r for r in created if "Idempotent-Replayed" not in r.headers]
    assert len(originals) == 1, statuses
    assert all(r.json() == originals[0].json() for r in created)
    for r in results:
        if r.status_code == 409:
            assert r.headers["Content-Type"].startswith("application/problem+json")
            assert "still being processed" in r.json()["detail"]
    listed = httpx.get(live_server.url + "/api/v1/trusts", params={"q": "CC1"}, headers=bearer).json()
    assert [t["id"] for t in listed] == [originals[0].json()["id"]]
    # A later retry replays the stored answer.
    later = httpx.post(live_server.url + "/api/v1/trusts", json=body, headers=headers)
    assert later.status_code == 201 and later.headers["Idempotent-Replayed"] == "true"
    assert later.json() == originals[0].json()


def test_two_patches_with_the_same_etag_one_wins(live_server, bearer):
    created = httpx.post(live_server.url + "/api/v1/trusts", json={**TRUST, "name": "Race", "ods_code": "CC2"},
                         headers=bearer)
    assert created.status_code == 201
    url, etag = created.headers["Location"], created.headers["ETag"]
    if url.startswith("/"):
        url = live_server.url + url
    results = _fire(2, lambda http, i: http.patch(url, json={"ics": f"writer {i}"},
                                                   headers={**bearer, "If-Match": etag}))
    assert all(isinstance(r, httpx.Response) for r in results), results
    assert sorted(r.status_code for r in results) == [200, 412]
    winner = next(r for r in results if r.status_code == 200)
    loser = next(r for r in results if r.status_code == 412)
    assert loser.headers["Content-Type"].startswith("application/problem+json")
    current = httpx.get(url, headers=bearer)
    assert current.json()["ics"] == winner.json()["ics"]
    assert current.headers["ETag"] == winner.headers["ETag"] != etag
    assert json.loads(current.text)["name"] == "Race"
