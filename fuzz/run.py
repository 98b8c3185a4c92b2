"""`make fuzz`: schemathesis, every check and every phase, against a live server, as a coordinator and a partner.

A fresh SQLite database under a temporary directory is migrated and seeded with the demo programme; a
coordinator token and a partner token (NHS Providers) are created with the CLI; gunicorn serves the app on
a free loopback port; `schemathesis run` then reads the served `/openapi.json` and runs the examples,
coverage, fuzzing and stateful phases with `--checks all` (settings in `schemathesis.toml`), once per role,
with the token of that role from `fuzz/hooks.py`.
Prints the cases run and the failures of each role and exits 1 if either found anything.

    python fuzz/run.py                      # both roles
    python fuzz/run.py --role partner       # one role
    python fuzz/run.py -- --max-examples 5  # extra arguments go to `schemathesis run`
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PHASES = "examples,coverage,fuzzing,stateful"
ROLES = ("coordinator", "partner")


def flask(env: dict, *args: str) -> str:
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed:\n{run.stderr}")
    return run.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the server exited before it was ready")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit("the server did not become ready within 60 s")


def fuzz(base: str, env: dict, role: str, report_dir: Path, extra: list[str]) -> tuple[int, str]:
    args = [str(BIN / "schemathesis"), "run", f"{base}/openapi.json", "--checks", "all", "--phases", PHASES,
            "--workers", "1", "--report", "junit", "--report-junit-path", str(report_dir / f"{role}.xml"), *extra]
    print(f"\n=== schemathesis as a {role}", flush=True)
    # The token comes from fuzz/hooks.py: created with the CLI, and again if the run revokes it.
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**env, "FUZZ_ROLE": role, "SCHEMATHESIS_HOOKS": "fuzz.hooks", "NO_COLOR": "1"})
    lines = []
    for line in process.stdout:
        sys.stdout.write(line)
        lines.append(line)
    return process.wait(), "".join(lines)


def summary(output: str) -> str:
    """The failures and the `Test cases:` figures of schemathesis' summary, for the closing table."""
    lines = output.splitlines()
    picked = []
    for i, line in enumerate(lines):
        if line.strip() in ("Failures:", "Test cases:"):
            for following in lines[i + 1:]:
                if not following.strip() or not following.startswith("  "):
                    break
                picked.append(following.strip())
    return "; ".join(picked) or "(no summary printed)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", choices=ROLES, action="append", help="Run only as this role (repeatable).")
    parser.add_argument("extra", nargs="*", help="Arguments passed on to `schemathesis run` (after --).")
    options = parser.parse_args()
    roles = options.role or list(ROLES)

    with tempfile.TemporaryDirectory(prefix="boardroom-fuzz-") as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/fuzz.sqlite3", "BOARDROOM_ENV": "testing",
               "BOARDROOM_INSTANCE_PATH": tmp,
               # Thousands of requests a minute from one token: limits are tested in tests/test_serving*.py.
               "BOARDROOM_RATE_LIMIT": "off", "BOARDROOM_FEED_RATE_LIMIT": "off",
               "BOARDROOM_ACCESS_LOG": ""}  # schemathesis' report is the output that matters
        flask(env, "db", "upgrade")
        print(flask(env, "seed-demo").strip().splitlines()[-1])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                   "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
        results = {}
        try:
            wait_ready(base, server)
            for role in roles:
                status, output = fuzz(base, env, role, Path(tmp), options.extra)
                results[role] = (status, summary(output))
        finally:
            server.terminate()
            server.wait(timeout=30)

    print("\n=== make fuzz")
    for role, (status, text) in results.items():
        print(f"{role:12} {'ok' if status == 0 else 'FAILED'}  {text}")
    return 0 if all(status == 0 for status, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
