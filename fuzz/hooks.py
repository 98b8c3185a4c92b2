"""Schemathesis hooks for `make fuzz` (loaded through SCHEMATHESIS_HOOKS=fuzz.hooks).

Every request carries a bearer token for the role under test (FUZZ_ROLE). The token is created with the
CLI, like an operator would; when an answer is 401 because the run itself revoked it (schemathesis finds
`DELETE /api/v1/tokens/{token_id}` and token ids in `GET /api/v1/tokens`), a new one is created, so the
rest of the run is not silently reduced to 401s.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import schemathesis

ROOT = Path(__file__).resolve().parent.parent
ROLES = {"coordinator": ["--role", "coordinator"], "partner": ["--role", "partner", "--partner", "nhs-providers"]}


def create_token(role: str) -> str:
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "tokens", "create", f"make fuzz {role}",
                          *ROLES[role]], cwd=ROOT, env=os.environ, check=True, capture_output=True, text=True)
    return run.stdout.strip().splitlines()[-1]


@schemathesis.auth(refresh_interval=3600)
class CliToken:
    def get(self, case, ctx):
        return create_token(os.environ["FUZZ_ROLE"])

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
