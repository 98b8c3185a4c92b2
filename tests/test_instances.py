"""Two app instances (separate gunicorn processes, separate ports, two workers each) on one database.

Overlapping bookings, one Idempotency-Key and one If-Match fired at both at once: exactly one
winner each time and no 5xx. With Redis, both instances' workers share one rate-limit counter:
of N+20 requests spread across them exactly N succeed. Two delivery workers, one per instance's
settings, never send the same attempt twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, _database_url, _free_port, migrate
from tests.webhooks.conftest import start_receiver

BIN = Path(sys.executable).parent
LIMIT = 40  # per token per minute, shared through Redis
REDIS_URL = "redis://127.0.0.1:6379/13"  # a database number of the tests' own


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def require_redis() -> None:
    """Fail in CI when Redis is missing; on a laptop, skip and say so."""
    if redis_answers():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("Redis is not answering on 127.0.0.1:6379; CI needs it (.ci/run starts redis-server)")
    print("\n*** SKIPPING: Redis is not answering on 127.0.0.1:6379, so shared rate limits are NOT tested ***")
    pytest.skip("Redis is not answering on 127.0.0.1:6379 (CI fails here instead)")


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    url = _database_url(tmp_path_factory, suffix="_instances")
    migrate(url)
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "DATABASE_URL": url, "BOARDROOM_ENV": "testing", "BOARDROOM_RATE_LIMIT": f"{LIMIT}/minute",
           "BOARDROOM_RATE_LIMIT_PREFIX": prefix, "BOARDROOM_ACCESS_LOG": "/dev/null"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if redis_answers():
        env["REDIS_URL"] = REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    processes, bases = [], []
    logs = tmp_path_factory.mktemp("instances")
    for n in range(2):
        port = _free_port()
        sink = (logs / f"instance{n}.log").open("w")
        processes.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base, process in zip(bases, processes):
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, (logs / "instance0.log").read_text()[-2000:]
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "instance did not start"
                time.sleep(0.3)
        yield {"bases": bases, "env": env, "url": url, "prefix": prefix}
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        if "REDIS_URL" in env:
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(f"*{prefix}*"):
                client.delete(key)


def new_token(instances, role: str = "coordinator") -> str:
    """A fresh token per test, so each test has its own rate-limit counter (made in the shell: not counted)."""
    out = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "tokens", "create", f"inst {uuid.uuid4().hex[:6]}",
                          "--role", role], cwd=ROOT, env=instances["env"], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def fire(instances, token: str, requests: list[tuple[str, str, dict | None, dict]]) -> list[httpx.Response]:
    """Send each request from its own thread and connection, alternating instances, released by one barrier."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(i: int, method: str, path: str, body: dict | None, headers: dict) -> None:
        base = instances["bases"][i % 2]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}", **headers}, timeout=60) as c:
            c.get("/healthz")
            barrier.wait()
            try:
                results[i] = c.request(method, path, json=body)
            except Exception as exc:  # noqa: BLE001 - reported below
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i, *r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    return results


def tally(name: str, responses) -> Counter:
    counts = Counter(r.status_code for r in responses)
    print(f"\n{name}: {len(responses)} requests across two instances -> {dict(sorted(counts.items()))}")
    assert not [r for r in responses if r.status_code >= 500], [r.text for r in responses if r.status_code >= 500]
    return counts


def _trust(client: httpx.Client, ods: str) -> str:
    r = client.post("/api/v1/trusts", json={"name": f"Instance Trust {ods}", "ods_code": ods, "region": "london"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_overlapping_bookings_at_both_instances_have_one_winner(instances):
    token = new_token(instances)
    with httpx.Client(base_url=instances["bases"][0], headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        trust_id = _trust(c, "IN1")
    base = datetime(2027, 6, 1, 10, tzinfo=UTC)
    requests = [("POST", "/api/v1/bookings", {"trust_id": trust_id,
                                              "starts_at": (base + timedelta(minutes=5 * i)).isoformat()}, {})
                for i in range(12)]
    counts = tally("overlapping bookings", fire(instances, token, requests))
    assert counts[201] == 1 and counts[409] == 11, counts


def test_one_idempotency_key_at_both_instances_acts_once(instances):
    token = new_token(instances)
    key = f"key-{uuid.uuid4()}"
    body = {"name": "Idempotent Trust", "ods_code": "IN2", "region": "london"}
    responses = fire(instances, token, [("POST", "/api/v1/trusts", body, {"Idempotency-Key": key})] * 12)
    counts = tally("same Idempotency-Key", responses)
    assert set(counts) <= {201, 409}, counts
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1  # the first answer, and replays of it
    assert sum(1 for r in responses if r.headers.get("Idempotent-Replayed") == "true") == counts[201] - 1
    with httpx.Client(base_url=instances["bases"][1], headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        assert [t["id"] for t in c.get("/api/v1/trusts", params={"q": "IN2"}).json()] == list(created)


def test_one_if_match_at_both_instances_has_one_winner(instances):
    token = new_token(instances)
    with httpx.Client(base_url=instances["bases"][0], headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        trust_id = _trust(c, "IN3")
        etag = c.get(f"/api/v1/trusts/{trust_id}").headers["ETag"]
    requests = [("PATCH", f"/api/v1/trusts/{trust_id}", {"notes": f"edit {i}"}, {"If-Match": etag}) for i in range(12)]
    counts = tally("same If-Match", fire(instances, token, requests))
    assert counts[200] == 1 and counts[412] == 11, counts


def test_both_instances_share_one_rate_limit_counter(instances):
    require_redis()
    token = new_token(instances)
    total = LIMIT + 20
    statuses = []
    clients = [httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
               for base in instances["bases"] for _ in range(3)]  # several connections: every worker gets some
    try:
        for i in range(total):
            statuses.append(clients[i % len(clients)].get("/api/v1/topics").status_code)
    finally:
        for c in clients:
            c.close()
    counts = Counter(statuses)
    print(f"\nshared limit {LIMIT}/minute: {total} requests over 2 instances x 2 workers -> {dict(counts)}")
    assert counts == {200: LIMIT, 429: 20}


def test_two_workers_for_two_instances_never_send_an_attempt_twice(instances):
    receiver = start_receiver()
    token = new_token(instances)
    workers = []
    try:
        with httpx.Client(base_url=instances["bases"][0], headers={"Authorization": f"Bearer {token}"},
                          timeout=60) as c:
            hook = c.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["booking.created"]})
            assert hook.status_code == 201, hook.text
            trust_id = _trust(c, "IN4")
        workers = [subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "webhooks", "deliver", "--poll", "0.2"],
                                    cwd=ROOT, env=instances["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, start_new_session=True) for _ in range(2)]
        base = datetime(2027, 7, 1, 10, tzinfo=UTC)
        bookings = 24
        requests = [("POST", "/api/v1/bookings", {"trust_id": trust_id,
                                                  "starts_at": (base + timedelta(days=i)).isoformat()}, {})
                    for i in range(bookings)]
        responses = fire(instances, token, requests)
        counts = tally("bookings for the workers", responses)
        assert counts[201] == bookings
        ours = {r.json()["id"] for r in responses}

        def delivered() -> list[str]:  # earlier tests' undispatched bookings may be delivered too
            return [b["data"]["id"] for b in receiver.bodies() if b["data"]["id"] in ours]

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(delivered()) < bookings:
            time.sleep(0.2)
        time.sleep(1.5)  # any duplicate would arrive now
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        outputs = [w.communicate(timeout=60) for w in workers]
        receiver.shutdown()
        receiver.server_close()
    ids = receiver.ids()
    print(f"\nworkers: {[o.strip().splitlines()[-1] if o.strip() else e[-300:] for o, e in outputs]}; "
          f"received {len(ids)}, distinct {len(set(ids))}")
    assert len(ids) == len(set(ids))  # no attempt sent twice
    assert sorted(delivered()) == sorted(ours)
