"""The benchmark's smoke run (tiny sizes, one-second loads), so `make bench` never rots."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def require_wrk() -> None:
    """Fail in CI when wrk is missing (``make test`` installs it); on a laptop, skip and say so."""
    if shutil.which("wrk") is not None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("wrk is not installed; CI needs it (make test installs Debian's package)")
    print("\n*** SKIPPING: wrk is not installed, so the benchmark smoke run is NOT tested ***")
    pytest.skip("wrk (Debian package) is not installed (CI fails here instead)")


def test_bench_smoke_prints_every_goal_and_writes_json(tmp_path):
    from tests.test_instances import redis_answers

    require_wrk()
    env = {**os.environ, "BOARDROOM_BENCH_RESULTS": str(tmp_path)}
    if os.environ.get("BOARDROOM_TEST_DB") == "postgres":
        stem, _, name = os.environ["TEST_DATABASE_URL"].rpartition("/")
        env["BENCH_DATABASE_URL"] = f"{stem}/{name}_bench_smoke"  # the test database's own, so runs don't clash
    out = subprocess.run([sys.executable, "bench/run.py", "--smoke"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    goals = [line for line in out.stdout.splitlines() if line.rstrip().endswith(("PASS", "FAIL"))]
    assert len(goals) >= 10, out.stdout
    written = list(tmp_path.glob("*.json"))
    assert len(written) == 1
    result = json.loads(written[0].read_text())
    assert result["smoke"] is True and len(result["goals"]) == len(goals)
    for size in result["sizes"].values():
        assert size["get_booking"]["errors"] == 0 and size["get_booking"]["rps"] > 0
    if redis_answers() or os.environ.get("CI") == "true":  # the limiter row and its floor (CI always has Redis)
        large = result["sizes"][max(result["sizes"], key=int)]
        for name in ("list_bookings_50_limits_off", "list_bookings_50_limiter", "list_bookings_50_redis_round_trip"):
            assert large[name]["errors"] == 0 and large[name]["rps"] > 0, name
        assert "limiter row's floor: one bare Redis round trip a request" in out.stdout
