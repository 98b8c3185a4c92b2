"""Probes: /healthz while the process runs, /readyz only at the newest migration."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from api.migrations_state import head_revision
from tests.conftest import ROOT, migrate, problem

PROBE = """
import json, sys
from api import create_app
app = create_app({"DATABASE_URL": sys.argv[1]})
r = app.test_client().get("/readyz")
print(json.dumps({"status": r.status_code, "type": r.content_type, "body": r.get_json(),
                  "retry": r.headers.get("Retry-After")}))
"""


def probe(url: str) -> dict:
    """/readyz from an app of its own bound to ``url`` (a separate process keeps the test session untouched)."""
    out = subprocess.run([sys.executable, "-c", PROBE, url], cwd=ROOT, capture_output=True, text=True,
                         check=True, env={**os.environ, "BOARDROOM_ENV": "testing"}).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_healthz_needs_no_token(anon):
    r = anon.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok"}


def test_readyz_200_at_head(anon):
    r = anon.get("/readyz")
    assert r.status_code == 200
    assert r.json == {"status": "ready", "revision": head_revision()}


def test_readyz_503_when_the_schema_is_behind(anon, monkeypatch):
    from api.health import routes

    monkeypatch.setattr(routes, "head_revision", lambda: "a_newer_revision")
    r = anon.get("/readyz")
    assert r.status_code == 503
    assert "flask --app wsgi db upgrade" in problem(r)["detail"]
    assert r.headers["Retry-After"]


def test_readyz_on_a_fresh_database_503_until_migrated(fresh_url):
    before = probe(fresh_url)
    assert before["status"] == 503 and before["type"].startswith("application/problem+json")
    assert before["retry"]
    migrate(fresh_url)
    after = probe(fresh_url)
    assert after["status"] == 200 and after["body"]["revision"] == head_revision()


def test_readyz_503_when_the_database_does_not_answer():
    down = probe("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert down["status"] == 503
    assert "Traceback" not in json.dumps(down["body"])
