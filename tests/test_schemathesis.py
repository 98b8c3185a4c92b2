"""Schemathesis, with all its checks, against our own OpenAPI document and the WSGI app.

The document is the one the app serves, produced at collection time by `flask openapi write` in a
separate process (so no second app is assembled in this one). Examples are bounded and deterministic
(see schemathesis.toml); each operation runs inside the usual rolled-back test transaction.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.conftest import ROOT

EXAMPLES: dict[str, int] = {}


def _served_document() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "openapi.json"
        env = {**os.environ, "BOARDROOM_ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp}/unused.sqlite3"}
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "openapi", "write", str(out)],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        return json.loads(out.read_text(encoding="utf-8"))


schema = schemathesis.openapi.from_dict(_served_document(),
                                        config=SchemathesisConfig.from_path(ROOT / "schemathesis.toml"))


@pytest.fixture
def st_headers(make_token, seeded_topics):
    return {"Authorization": f"Bearer {make_token('coordinator', name='schemathesis')}"}


# The examples of one operation share its test's transaction (rolled back at the end), on purpose.
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_document(case, app, st_headers):
    key = case.operation.label
    EXAMPLES[key] = EXAMPLES.get(key, 0) + 1
    case.operation.schema.app = app  # in-process WSGI calls, probes included (the app is a fixture)
    case.call_and_validate(app=app, headers=st_headers)


@pytest.fixture
def st_partner_headers(make_token, seeded_topics, create_partner):
    partner = create_partner(name="NHS Providers", slug="nhs-providers")
    return {"Authorization": f"Bearer {make_token('partner', partner.id, name='schemathesis partner')}"}


# As a partner too, with fewer examples (what a partner may not do is mostly a 403 early on).
@schema.parametrize()
@settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_document_as_a_partner(case, app, st_partner_headers):
    key = "partner " + case.operation.label
    EXAMPLES[key] = EXAMPLES.get(key, 0) + 1
    case.operation.schema.app = app
    case.call_and_validate(app=app, headers=st_partner_headers)


def test_zz_report_example_count():
    """Not a check: prints how many examples ran (pytest -s), for the record."""
    if EXAMPLES:
        print(f"\nschemathesis: {sum(EXAMPLES.values())} examples over {len(EXAMPLES)} operations")
