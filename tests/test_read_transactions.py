"""Reads on PostgreSQL run in READ ONLY transactions ended by COMMIT, so psycopg keeps its prepared statements.

psycopg forgets every prepared statement of a connection on ROLLBACK (and sends ``DEALLOCATE ALL``), so while
reads ended in ROLLBACK each request parsed and planned all its statements afresh (``api.db.end_read``).

PostgreSQL's behaviour only: collected on the suite's PostgreSQL pass (``collect_ignore`` in tests/conftest.py), which
``make test`` runs whenever TEST_DATABASE_URL is set, as CI always does."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT, migrate

SCRIPT = """
import json, sys
from api import create_app
from api.accounts import service
from api.auth import SYSTEM
from api.extensions import Session

app = create_app({"DATABASE_URL": sys.argv[1], "RATE_LIMIT": "off", "FEED_RATE_LIMIT": "off", "REDIS_URL": None})
with app.app_context():
    _token, secret = service.create_token(Session(), SYSTEM, name="reader", role="coordinator")
    Session.commit()
    Session.remove()
engine = app.extensions["engine"]
client = app.test_client()
statuses = [client.get("/api/v1/trusts", headers={"Authorization": "Bearer " + secret}).status_code for _ in range(8)]
with engine.connect() as conn:  # the pool's one connection, the one every request used
    prepared = conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar()
print(json.dumps({"statuses": statuses, "prepared": prepared, "checked_out": engine.pool.checkedout()}))
"""


def test_reads_keep_their_prepared_statements_on_postgresql(fresh_url):
    migrate(fresh_url)
    out = subprocess.run([sys.executable, "-c", SCRIPT, fresh_url], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "BOARDROOM_ENV": "testing"})
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [200] * 8
    # The token lookup and the list's statements ran more than psycopg's threshold (5) on one connection: still
    # prepared after the eighth request ended. With a ROLLBACK at the end of each read there were none.
    assert result["prepared"] >= 2, result


def test_a_read_cannot_write_on_postgresql(fresh_url):
    migrate(fresh_url)
    script = """
import sys
from sqlalchemy import text
from api import create_app
from api.extensions import Session
from api.db import read_only_transaction
app = create_app({"DATABASE_URL": sys.argv[1], "REDIS_URL": None})
with app.app_context():
    assert read_only_transaction(Session())
    try:
        Session().execute(text("UPDATE derived_counters SET changed = changed + 1"))
    except Exception as exc:
        print(type(exc.orig).__name__)
"""
    out = subprocess.run([sys.executable, "-c", script, fresh_url], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "BOARDROOM_ENV": "testing"})
    assert out.stdout.strip().splitlines()[-1] == "ReadOnlySqlTransaction", out.stderr[-2000:]
