"""Test fixtures: one migrated database per run, each test in a transaction rolled back at the end.

The database is a temporary SQLite file, or PostgreSQL from TEST_DATABASE_URL when
BOARDROOM_TEST_DB=postgres (``make test`` runs the suite once for each).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from api.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
# Modules about PostgreSQL's own behaviour (psycopg's prepared statements, READ ONLY transactions): not collected
# on the SQLite pass rather than skipped there.
POSTGRESQL_ONLY = ["test_read_transactions.py"]
collect_ignore = [] if os.environ.get("BOARDROOM_TEST_DB") == "postgres" else POSTGRESQL_ONLY
os.environ.setdefault("BOARDROOM_ENV", "testing")


def _database_url(tmp_path_factory, suffix: str = "") -> str:
    if os.environ.get("BOARDROOM_TEST_DB") == "postgres":
        url = os.environ["TEST_DATABASE_URL"]
        if suffix:
            url = _create_pg_database(url, suffix)
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / f"boardroom{suffix}.sqlite3")


def _create_pg_database(url: str, suffix: str) -> str:
    """A sibling PostgreSQL database (for live-server tests that must commit)."""
    base, _, name = url.rpartition("/")
    new = f"{name}{suffix}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{new}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{new}"'))
    admin.dispose()
    return f"{base}/{new}"


def _drop_pg_database(base_url: str, url: str) -> None:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def fresh_url(tmp_path, request):
    """An empty database of the test's own: a temporary SQLite file, or a sibling PostgreSQL database."""
    name = request.module.__name__.rpartition(".")[2]
    if os.environ.get("BOARDROOM_TEST_DB") == "postgres":
        base = os.environ["TEST_DATABASE_URL"]
        url = _create_pg_database(base, f"_{name}")
        yield url
        _drop_pg_database(base, url)
    else:
        yield f"sqlite:///{tmp_path}/{name}.sqlite3"


def _reset_pg(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrate(url: str, revision: str = "head") -> None:
    from alembic import command

    from api.migrations_state import alembic_config

    command.upgrade(alembic_config(url), revision)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    if url.startswith("postgresql"):
        _reset_pg(url)
    migrate(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def app(engine, database_url):
    from api import create_app

    # Limits high enough that the suite never trips them; rate-limit tests lower them for themselves.
    return create_app({"TESTING": True, "DATABASE_URL": database_url, "ENGINE": engine,
                       "PUBLIC_BASE_URL": "https://boardroom.test", "RATE_LIMIT": "1000000/minute",
                       "FEED_RATE_LIMIT": "1000000/minute", "REDIS_URL": None})


@pytest.fixture
def db(app, engine):
    """The test's database session, joined to an outer transaction that is rolled back at the end."""
    from api.extensions import Session

    connection = engine.connect()
    transaction = connection.begin()
    Session.remove()
    Session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield Session
    finally:
        Session.remove()
        transaction.rollback()
        connection.close()
        Session.configure(bind=engine, join_transaction_mode="conditional_savepoint")


# --- clients ---------------------------------------------------------------------------------------

class ApiClient:
    """A test client acting with one bearer token; JSON in, Flask response out."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        out = {}
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        out.update(headers or {})
        return out

    def request(self, method: str, url: str, json_body=None, headers=None, **kwargs):
        return self.client.open(url, method=method, json=json_body, headers=self._headers(headers), **kwargs)

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, json=None, **kw):
        return self.request("POST", url, json_body=json, **kw)

    def put(self, url, json=None, **kw):
        return self.request("PUT", url, json_body=json, **kw)

    def patch(self, url, json=None, etag="*", **kw):
        headers = kw.pop("headers", {}) or {}
        if etag is not None:
            headers.setdefault("If-Match", etag)
        return self.request("PATCH", url, json_body=json, headers=headers, **kw)

    def delete(self, url, etag="*", **kw):
        headers = kw.pop("headers", {}) or {}
        if etag is not None:
            headers.setdefault("If-Match", etag)
        return self.request("DELETE", url, headers=headers, **kw)


@pytest.fixture
def make_token(db):
    """Create a token directly in the database and return its secret.

    Factories commit: inside a test that releases a SAVEPOINT, so the data outlives a request's
    rollback but not the test."""
    from api.accounts import service
    from api.auth import SYSTEM

    def _make(role: str = "coordinator", partner_id: str | None = None, name: str | None = None) -> str:
        _token, secret = service.create_token(db(), SYSTEM, name=name or f"test {role}", role=role,
                                              partner_id=partner_id)
        db().commit()
        return secret

    return _make


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def coordinator(client, make_token):
    return ApiClient(client, make_token("coordinator"))


@pytest.fixture
def viewer(client, make_token):
    return ApiClient(client, make_token("viewer"))


@pytest.fixture
def anon(client):
    return ApiClient(client, None)


@pytest.fixture
def partner_org(create_partner):
    return create_partner(name="NHS Providers", slug="nhs-providers")


@pytest.fixture
def partner(client, make_token, partner_org):
    return ApiClient(client, make_token("partner", partner_org.id))


@pytest.fixture
def other_partner(client, make_token, create_partner):
    org = create_partner(name="Other Partner", slug="other-partner")
    return ApiClient(client, make_token("partner", org.id))


# --- factories -------------------------------------------------------------------------------------

@pytest.fixture
def create_partner(db):
    from api.accounts.models import Partner

    def _create(**kw):
        partner = Partner(**{"name": "Partner", "slug": f"p-{os.urandom(3).hex()}", **kw})
        db().add(partner)
        db().commit()
        return partner

    return _create


@pytest.fixture
def create_trust(db):
    from api.trusts.models import Trust

    counter = iter(range(100, 10_000))

    def _create(**kw):
        n = next(counter)
        trust = Trust(**{"name": f"Test Trust {n}", "ods_code": f"T{n}", "region": "london",
                         "trust_type": "acute", "timezone": "Europe/London", **kw})
        db().add(trust)
        db().commit()
        return trust

    return _create


@pytest.fixture
def create_contact(db, create_trust):
    from api.trusts.models import Contact

    def _create(trust=None, **kw):
        trust = trust or create_trust()
        contact = Contact(**{"trust_id": trust.id, "name": "Ceri Jones", "role": "Chair",
                             "email": "ceri.jones@example.nhs.uk", "phone": "+44 20 7000 0000", **kw})
        db().add(contact)
        db().commit()
        return contact

    return _create


@pytest.fixture
def seeded_topics(db):
    from api.topics.service import seed_catalogue

    seed_catalogue(db())
    db().commit()
    return db


@pytest.fixture
def create_speaker(db):
    from api.speakers.models import Speaker

    def _create(**kw):
        speaker = Speaker(**{"name": "Dr Test Speaker", "email": "speaker@example.org", "phone": "+44 1",
                             "timezone": "Europe/London", "active": True, **kw})
        db().add(speaker)
        db().commit()
        return speaker

    return _create


# --- a real server process, for concurrency tests ----------------------------------------------------

@dataclass
class LiveServer:
    url: str
    database_url: str
    process: subprocess.Popen

    def token(self, role: str = "coordinator", partner_slug: str | None = None) -> str:
        args = [sys.executable, "-m", "flask", "--app", "wsgi", "tokens", "create", f"live {role}", "--role", role]
        if partner_slug:
            args += ["--partner", partner_slug]
        out = subprocess.run(args, cwd=ROOT, env=self.env, check=True, capture_output=True, text=True).stdout
        return out.strip().splitlines()[-1]

    @property
    def env(self) -> dict:
        return {**os.environ, "DATABASE_URL": self.database_url, "BOARDROOM_ENV": "testing"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, process: subprocess.Popen, what: str, seconds: float = 60) -> None:
    """Wait until a server just started answers ``/healthz``; kill it and fail if it does not in time."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{what} did not start")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """gunicorn with four workers on its own freshly migrated database (committed data)."""
    url = _database_url(tmp_path_factory, suffix="_live")
    migrate(url)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "BOARDROOM_ENV": "testing", "BOARDROOM_RATE_LIMIT": "1000000/minute"}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "4", "--threads", "4", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, process, "live server")
    yield LiveServer(url=base, database_url=url, process=process)
    process.terminate()
    process.wait(timeout=10)


def problem(response) -> dict:
    """Assert a response is problem+json and return its body."""
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.headers
    body = json.loads(response.get_data(as_text=True))
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == response.status_code
    return body
