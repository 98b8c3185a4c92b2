"""Serving for real: `make run` (honcho: gunicorn + webhook worker) and the README's production command.

Real processes on loopback: a webhook arrives signed within 10 s of a booking, 50 idle or
half-sent connections do not stall `/healthz` or an API GET, CORS, multi-process metrics, tokens
kept out of the access log however the feed path is spelled, and SIGTERM stopping everything.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from standardwebhooks import Webhook

from tests.conftest import ROOT, _free_port, migrate
from tests.webhooks.conftest import start_receiver

BIN = Path(sys.executable).parent


def _wait_healthy(base: str, process: subprocess.Popen, output: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {output.read_text()[-3000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server did not start: {output.read_text()[-3000:]}")


def _stop(process: subprocess.Popen, timeout: float = 60) -> int:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


class Served:
    def __init__(self, base: str, token: str, process: subprocess.Popen, output: Path, env: dict):
        self.base, self.token, self.process, self.output, self.env = base, token, process, output, env

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def make_run(tmp_path_factory, request):
    """`make run` itself, on a database and instance folder of its own, on a free $PORT."""
    from tests.conftest import _database_url

    instance = tmp_path_factory.mktemp("instance")
    url = _database_url(tmp_path_factory, suffix="_makerun")
    port = _free_port()
    output = instance / "make-run.log"
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": url, "BOARDROOM_INSTANCE_PATH": str(instance),
           "BOARDROOM_ACCESS_LOG": str(instance / "access.log"), "BOARDROOM_CORS_ORIGINS": "https://tools.example",
           "PYTHONUNBUFFERED": "1"}
    for name in ("BOARDROOM_ENV", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "PUBLIC_BASE_URL", "BOARDROOM_RATE_LIMIT"):
        env.pop(name, None)  # what a new user has: nothing set
    with output.open("w") as sink:
        process = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, output, seconds=240)
        token = (instance / "coordinator-token.txt").read_text().strip()
        yield Served(base, token, process, output, env)
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """The README's production command: `gunicorn --workers 4 --bind ... wsgi:app` (gunicorn.conf.py applies)."""
    from tests.conftest import _database_url

    url = _database_url(tmp_path_factory, suffix="_prod")
    migrate(url)
    port = _free_port()
    output = tmp_path_factory.mktemp("prod") / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": url, "BOARDROOM_ENV": "production",
           "PUBLIC_BASE_URL": "https://boardroom.example.org"}
    env.pop("REDIS_URL", None)
    token = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "tokens", "create", "prod", "--role", "coordinator"],
                           cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    with output.open("w") as sink:
        process = subprocess.Popen([str(BIN / "gunicorn"), "--workers", "4", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                                   cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, output)
        yield Served(base, token, process, output, env)
    finally:
        _stop(process)


# --- done when: a partner webhook arrives within 10 s of the booking ----------------------------

def test_make_run_delivers_a_signed_booking_created_within_ten_seconds(make_run):
    receiver = start_receiver()
    try:
        with make_run.client() as coordinator:
            partner = coordinator.post("/api/v1/partners", json={"name": "Live Partner", "slug": "live-partner"})
            assert partner.status_code == 201, partner.text
            token = coordinator.post("/api/v1/tokens", json={"name": "live partner", "role": "partner",
                                                             "partner_id": partner.json()["id"]}).json()["token"]
            trust_id = coordinator.get("/api/v1/trusts?page_size=1").json()[0]["id"]
        with make_run.client(token) as partner_client:
            hook = partner_client.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["booking.created"]})
            assert hook.status_code == 201, hook.text
            starts = (datetime.now(UTC) + timedelta(days=40)).replace(hour=10, minute=0, second=0,
                                                                               microsecond=0)
            booked_at = time.monotonic()
            booking = partner_client.post("/api/v1/bookings", json={
                "trust_id": trust_id, "kind": "board_development", "format": "virtual",
                "starts_at": starts.isoformat(), "title": "Live webhook check"})
            assert booking.status_code == 201, booking.text
        while time.monotonic() - booked_at < 10 and not receiver.requests:
            time.sleep(0.1)
        waited = time.monotonic() - booked_at
        print(f"\nwebhook received {waited:.2f} s after the booking")
        assert receiver.requests, f"no webhook within 10 s; make run output:\n{make_run.output.read_text()[-3000:]}"
        request = receiver.requests[0]
        payload = Webhook(hook.json()["secret"]).verify(request["body"], request["headers"])
        assert payload["type"] == "booking.created" and payload["data"]["id"] == booking.json()["id"]
    finally:
        receiver.shutdown()
        receiver.server_close()


# --- slow clients ----------------------------------------------------------------------------------

def _hold_connections(base: str, count: int = 50) -> list[socket.socket]:
    """Half the connections send nothing, half send part of a request and stop."""
    port = int(base.rsplit(":", 1)[1])
    held = []
    for n in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if n % 2:
            sock.sendall(b"GET /api/v1/trusts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bear")
        held.append(sock)
    return held


def _timed(client: httpx.Client, path: str) -> tuple[int, float]:
    started = time.monotonic()
    r = client.get(path, timeout=35)
    return r.status_code, time.monotonic() - started


@pytest.mark.parametrize("server", ["make_run", "production"])
def test_fifty_idle_or_half_sent_connections_do_not_stall_the_server(server, request):
    served = request.getfixturevalue(server)
    held = _hold_connections(served.base)
    try:
        time.sleep(0.5)  # let the server accept them all
        timings = []
        with served.client() as client:
            for _ in range(3):
                for path in ("/healthz", "/api/v1/trusts?page_size=5"):
                    status, seconds = _timed(client, path)
                    assert status == 200
                    timings.append((path, seconds))
        slowest = max(seconds for _, seconds in timings)
        print(f"\n{server}: with 50 held connections, slowest answer {slowest * 1000:.0f} ms "
              f"({', '.join(f'{p} {s * 1000:.0f} ms' for p, s in timings)})")
        # The target is under 1 s; the bound is generous for a contended CI machine, and still fails
        # when workers are held until gunicorn's 30 s timeout.
        assert slowest < 8, timings
    finally:
        for sock in held:
            sock.close()


# --- CORS, metrics, logs ---------------------------------------------------------------------------

def test_cors_for_configured_origins_only(make_run):
    with httpx.Client(base_url=make_run.base, timeout=30) as client:
        preflight = client.options("/api/v1/bookings", headers={
            "Origin": "https://tools.example", "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Authorization, If-Match, Content-Type"})
        assert preflight.status_code == 200
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://tools.example"
        assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
        assert "if-match" in preflight.headers["Access-Control-Allow-Headers"].lower()
        assert "RateLimit" not in preflight.headers  # preflights are not counted
        got = client.get("/api/v1/trusts?page_size=1", headers={"Origin": "https://tools.example",
                                                                 "Authorization": f"Bearer {make_run.token}"})
        assert got.status_code == 200 and got.headers["Access-Control-Allow-Origin"] == "https://tools.example"
        exposed = {h.strip().lower() for h in got.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"etag", "link", "x-pagination", "ratelimit", "ratelimit-policy", "x-request-id"} <= exposed
        other = client.get("/api/v1/trusts", headers={"Origin": "https://evil.example",
                                                       "Authorization": f"Bearer {make_run.token}"})
        assert not [h for h in other.headers if h.lower().startswith("access-control-")]
        other_preflight = client.options("/api/v1/bookings", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"})
        assert "Access-Control-Allow-Origin" not in other_preflight.headers


def test_metrics_add_up_every_worker(make_run):
    with make_run.client() as client:
        before = _count(client.get("/metrics").text, "/healthz")
        for _ in range(20):
            assert client.get("/healthz").status_code == 200
        after = _count(client.get("/metrics").text, "/healthz")
    assert after - before == 20  # two workers served them; one scrape sees all


def _count(text: str, route: str) -> float:
    pattern = re.compile(r'^boardroom_http_requests_total\{method="GET",route="%s",status="200"\} ([0-9.e+]+)$'
                         % re.escape(route), re.MULTILINE)
    return sum(float(m) for m in pattern.findall(text))


def test_tokens_never_reach_the_access_log(make_run):
    with make_run.client() as client:
        feed = client.post("/api/v1/feeds", json={"scope": "programme"}).json()
    token = feed["token"]
    with httpx.Client(base_url=make_run.base, timeout=30) as anonymous:
        for path in (f"/feeds/{token}.ics", f"/feeds%2F{token}.ics", f"/%66eeds/{token}.ics",
                     f"/api/v1/trusts?access_token={make_run.token}"):
            anonymous.get(path)
    time.sleep(1)
    log = Path(make_run.env["BOARDROOM_ACCESS_LOG"]).read_text()
    assert "/feeds/***" in log
    assert token not in log and token.removeprefix("brf_") not in log
    assert make_run.token not in log and "access_token" not in log


def _half_sent_post(base: str, token: str) -> tuple[socket.socket, bytes]:
    """A POST whose headers and first half of the body are sent; returns the socket and the other half."""
    body = b'{"name": "In Flight NHS Trust", "ods_code": "RIF", "region": "london", "trust_type": "acute"}'
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(b"POST /api/v1/trusts HTTP/1.1\r\nHost: " + host.encode() + b"\r\nAuthorization: Bearer "
                 + token.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\n\r\n" + body[:20])
    return sock, body[20:]


def test_sigterm_stops_the_web_server_and_the_worker_gracefully(make_run, request):
    # Runs last in this module: stopping make run is the point. A request in flight when SIGTERM
    # arrives (its body half sent) still gets its answer, and its write is kept.
    sock, rest = _half_sent_post(make_run.base, make_run.token)
    time.sleep(0.5)  # the worker has the request: it is reading the body
    os.killpg(make_run.process.pid, signal.SIGTERM)
    time.sleep(1)
    sock.sendall(rest)
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    sock.close()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:500]
    code = _stop(make_run.process)
    engine = create_engine(make_run.env["DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM trusts WHERE ods_code = 'RIF'")).scalar() == "In Flight NHS Trust"
    engine.dispose()
    deadline = time.monotonic() + 40  # make exits at once; honcho then waits for its processes
    while time.monotonic() < deadline and not all(
            marker in make_run.output.read_text() for marker in ("web.1 stopped", "worker.1 stopped")):
        time.sleep(0.3)
    output = make_run.output.read_text()
    assert "webhooks: stopped" in output, output[-3000:]
    assert re.search(r"web\.1\s+\| .*Shutting down: Master", output), output[-3000:]
    assert "Traceback" not in output
    with pytest.raises(httpx.HTTPError):
        httpx.get(make_run.base + "/healthz", timeout=2)
    print(f"\nmake run exited with {code} after SIGTERM")
