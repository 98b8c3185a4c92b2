"""Webhook fixtures: a recording HTTP receiver on 127.0.0.1, a worker pass at a chosen time, a committed DB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import ROOT, _database_url, migrate


class HookReceiver(ThreadingHTTPServer):
    """Records every POST; answers each with the next status from ``statuses`` (200 once they run out)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.extra_headers: dict[str, str] = {}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def ids(self) -> list[str]:
        return [r["headers"]["webhook-id"] for r in self.requests]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server = self.server
        with server.lock:
            server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": body})
            status = server.statuses.pop(0) if server.statuses else 200
        self.send_response(status)
        for name, value in server.extra_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args):
        pass


def start_receiver() -> HookReceiver:
    server = HookReceiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_receiver():
    servers = []

    def _make() -> HookReceiver:
        servers.append(start_receiver())
        return servers[-1]

    yield _make
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def deliver(db):
    """Run one worker pass (dispatch, then send what is due) as if the time were ``now``."""
    from api.webhooks import worker

    def _deliver(now: datetime | None = None):
        clock = (lambda: now) if now is not None else None
        kwargs = {"clock": clock} if clock else {}
        return worker.drain(db(), allow_loopback=True, **kwargs)

    return _deliver


@pytest.fixture
def emit(db):
    """Write an outbox event and commit it, as a service does with its change."""
    from api import outbox

    def _emit(type_: str, payload: dict, *, partner_id: str | None = None, entity_type: str = "booking",
              entity_id: str | None = None):
        event = outbox.emit(db(), type_, entity_type=entity_type, entity_id=entity_id or payload.get("id", "x"),
                            partner_id=partner_id, payload=payload)
        db().commit()
        return event

    return _emit


# --- a committed database and worker processes ----------------------------------------------------

@pytest.fixture(scope="module")
def committed_db(tmp_path_factory):
    """A freshly migrated database of its own, for tests whose data must be committed (subprocesses)."""
    url = _database_url(tmp_path_factory, suffix="_whlive")
    migrate(url)
    return url


def worker_env(database_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "BOARDROOM_ENV": "testing", "PYTHONUNBUFFERED": "1"}


def flask_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def run_once(database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(flask_cmd("webhooks", "deliver", "--once"), check=False, cwd=ROOT,
                          env=worker_env(database_url), capture_output=True, text=True, timeout=300)
