"""`make bench`: seed, serve with gunicorn, drive with wrk, print one table of figures and ratios.

Every figure is also given as a ratio to baselines served in the same run (a bare Flask JSON
endpoint and a textbook flask-smorest list of 50 flat rows), because absolute times drift on shared
machines. Results go to bench/results/<timestamp>-<db>.json as well.

    python bench/run.py                  # SQLite, 1,000 and 100,000 bookings, 5,000 for the feed goal
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench python bench/run.py
    python bench/run.py --smoke          # tiny sizes, a few seconds: what `make test` runs
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
UTC = timezone.utc


# --- databases ----------------------------------------------------------------------------------------

def database_for(size: int, base_url: str | None, workdir: Path) -> str:
    if not base_url:
        return f"sqlite:///{workdir / f'bench-{size}.sqlite3'}"
    from sqlalchemy import create_engine, text

    stem, _, name = base_url.rpartition("/")
    db = f"{name}_{size}"
    # The base database need not exist: create and drop from the server's maintenance database.
    admin = create_engine(f"{stem}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    admin.dispose()
    return f"{stem}/{db}"


def build(url: str, size: int) -> dict:
    from alembic import command

    from api.db import make_engine
    from api.migrations_state import alembic_config
    from bench.seed import seed
    from sqlalchemy.orm import Session

    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    started = time.perf_counter()
    with Session(engine) as session:
        info = seed(session, size)
    if url.startswith("postgresql"):
        # What autovacuum does to a table in production: statistics for the planner, and a visibility map
        # so counts can be index-only scans rather than reads of every (wide) row.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    info["seed_seconds"] = round(time.perf_counter() - started, 1)
    return info


# --- servers ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# The app as it was measured before rate limits existed: limits off, no access log. The limiter row
# turns them on (see measure_size).
SERVE_ENV = {"BOARDROOM_ENV": "production", "PUBLIC_BASE_URL": "http://127.0.0.1", "BOARDROOM_ACCESS_LOG": "",
             "BOARDROOM_RATE_LIMIT": "off", "BOARDROOM_FEED_RATE_LIMIT": "off"}


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@contextmanager
def serve(app: str, url: str, workers: int = 2, extra_env: dict | None = None):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, **SERVE_ENV, "PYTHONPATH": str(ROOT), **(extra_env or {})}
    if not (extra_env or {}).get("REDIS_URL"):
        env.pop("REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
                             f"127.0.0.1:{port}", "--log-level", "warning", app], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(150):
        try:
            httpx.get(base + ("/healthz" if app == "wsgi:app" else "/json"), timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield base, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def rss_kib(pid: int, field: str = "VmHWM") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# --- load ---------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(url: str, *, seconds: float, token: str | None = None, headers: dict | None = None,
        script: str | None = None, connections: int = 4) -> dict:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--latency", "--timeout", "10s"]
    for name, value in {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}.items():
        args += ["-H", f"{name}: {value}"]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": int(non2xx.group(1)) if non2xx else 0}


def timed(fn, n: int) -> dict:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
            "rps": 1000 / statistics.mean(samples), "errors": 0}


# --- query counts (in process, same database) -----------------------------------------------------------

def query_counts(url: str, token: str, requests: dict) -> dict[str, int]:
    """SQL statements per request. ``requests``: name -> (method, path, body, headers) or a callable
    ``client -> (method, path, body, headers)`` run just before (its own requests are not counted)."""
    from sqlalchemy import event

    os.environ["DATABASE_URL"] = url
    from api import create_app

    app = create_app({"DATABASE_URL": url})
    engine = app.extensions["engine"]
    counts = {}
    count = [0]

    def on_execute(*_args, **_kw):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    for name, spec in requests.items():
        for _ in range(2):  # the first warms this process's caches; the second is counted
            method, path, body, headers = spec(client) if callable(spec) else spec
            count[0] = 0
            response = client.open(path, method=method, json=body, headers={**auth, **(headers or {})})
        assert response.status_code < 400, (name, response.status_code, response.get_data(as_text=True)[:300])
        counts[name] = count[0]
    event.remove(engine, "before_cursor_execute", on_execute)
    engine.dispose()
    return counts


# --- icalendar from scratch ----------------------------------------------------------------------------

def icalendar_from_scratch(n: int) -> float:
    """Seconds for the icalendar library to build and serialise n events in memory."""
    from zoneinfo import ZoneInfo

    from icalendar import Calendar, Event, vCalAddress

    tz = ZoneInfo("Europe/London")
    start = datetime(2024, 1, 1, 10, tzinfo=tz)
    t0 = time.perf_counter()
    cal = Calendar()
    cal.add("prodid", "-//bench//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    for i in range(n):
        ev = Event()
        ev.add("uid", f"{i}@bench")
        ev.add("dtstamp", datetime.now(UTC))
        ev.add("dtstart", start + timedelta(days=i % 900, hours=i % 3))
        ev.add("dtend", start + timedelta(days=i % 900, hours=i % 3 + 3))
        ev.add("summary", f"Board development session {i}")
        ev.add("description", "Topics: data, user-centred design\nBrief: tailored to the board's priorities.")
        ev.add("location", "https://meet.example.org/room")
        ev.add("sequence", 0)
        ev.add("status", "CONFIRMED")
        ev.add("organizer", vCalAddress("mailto:programme@example.org"))
        cal.add_component(ev)
    cal.to_ical()
    return time.perf_counter() - t0


# --- one database size -----------------------------------------------------------------------------------

CREATE_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local day = os.date("!%Y-%m-%dT18:00:00Z", 2000000000 + counter * 86400)
  local body = '{"trust_id": "TRUST", "starts_at": "' .. day .. '", "format": "virtual"}'
  return wrk.format("POST", "/api/v1/bookings", {["Content-Type"] = "application/json",
                    ["Authorization"] = "Bearer TOKEN"}, body)
end
"""


def cli_token(url: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, **SERVE_ENV}
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "tokens", "create", "bench",
                          "--role", "coordinator"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def pick_ids(url: str) -> dict:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from api.bookings.models import Booking, BookingSpeaker
    from api.db import make_engine

    engine = make_engine(url)
    with Session(engine) as s:
        now = datetime.now(UTC)
        booking = s.scalar(select(Booking.id).where(Booking.status == "confirmed").order_by(Booking.starts_at).limit(1))
        speakers = list(s.scalars(select(BookingSpeaker.speaker_id).group_by(BookingSpeaker.speaker_id)
                                  .order_by(func.count().desc()).limit(3)))
        trust = s.scalar(select(Booking.trust_id).where(Booking.starts_at > now).limit(1))
        masterclass = s.scalar(select(Booking.id).where(Booking.kind == "masterclass").limit(1))
    engine.dispose()
    return {"booking": booking, "speakers": speakers, "trust": trust, "masterclass": masterclass}


def measure_size(url: str, size: int, seconds: float, *, feed: bool = False, limiter: bool = False) -> dict:
    import httpx

    info = build(url, size)
    token = cli_token(url)
    ids = pick_ids(url)
    results: dict = {"size": size, "seed": info}
    h = {"Authorization": f"Bearer {token}"}
    with serve("wsgi:app", url) as (base, proc):
        client = httpx.Client(base_url=base, headers=h, timeout=60)
        feeds = {}
        for scope, body in (("programme", {"scope": "programme"}),
                            ("speaker", {"scope": "speaker", "speaker_id": ids["speakers"][0]})):
            r = client.post("/api/v1/feeds", json=body)
            feeds[scope] = r.json()["url"].split("/feeds/", 1)[1] if r.status_code == 201 else None
        start = (datetime.now(UTC) + timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)
        slot_q = (f"/api/v1/scheduling/slots?speaker_ids={','.join(ids['speakers'])}&trust_id={ids['trust']}"
                  f"&from={start:%Y-%m-%dT%H:%M:%SZ}&to={start + timedelta(days=28):%Y-%m-%dT%H:%M:%SZ}&duration=180")
        paths = {
            "healthz": "/healthz",
            "list_bookings_50": "/api/v1/bookings?page_size=50",
            "get_booking": f"/api/v1/bookings/{ids['booking']}",
            "report": "/api/v1/reports/programme",
            "slot_finder": slot_q,
            "list_registrations_50": f"/api/v1/bookings/{ids['masterclass']}/registrations?page_size=50",
            "get_masterclass": f"/api/v1/bookings/{ids['masterclass']}",
        }
        if feeds.get("speaker"):
            paths["speaker_feed"] = f"/feeds/{feeds['speaker']}"
        for name, path in paths.items():
            client.get(path)  # warm-up: the first feed request renders and stores VEVENTs seeded without them
            results[name] = wrk(base + path, seconds=seconds, token=None if name == "healthz" else token)
        if limiter:
            client.get("/metrics")
            results["metrics"] = wrk(base + "/metrics", seconds=seconds, token=token)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(CREATE_LUA.replace("TRUST", ids["trust"]).replace("TOKEN", token))
        results["create_booking"] = wrk(base + "/api/v1/bookings", seconds=seconds, script=f.name, connections=2)
        os.unlink(f.name)
        if feed and feeds.get("programme"):
            workers = worker_pids(proc.pid)
            rss_before = sum(rss_kib(p, "VmRSS") for p in workers) / max(1, len(workers))
            feed_path = f"/feeds/{feeds['programme']}"

            def cold():
                client.patch(f"/api/v1/bookings/{ids['booking']}", headers={"If-Match": "*"},
                             json={"title": f"Board development session {time.monotonic_ns()}"})
                t0 = time.perf_counter()
                r = client.get(feed_path)
                assert r.status_code == 200
                return time.perf_counter() - t0

            client.get(feed_path)  # the seed stores no VEVENTs: render them once, so samples measure a change
            samples = sorted(cold() * 1000 for _ in range(15))
            results["programme_feed_cold"] = {"p50_ms": statistics.median(samples), "p99_ms": samples[-1],
                                              "rps": 1000 / statistics.mean(samples), "errors": 0}
            etag = client.get(feed_path).headers.get("ETag", "")
            results["programme_feed_304"] = wrk(base + feed_path, seconds=seconds, headers={"If-None-Match": etag})
            peak = max(rss_kib(p, "VmHWM") for p in workers)
            results["worker_rss_growth_mib"] = round((peak - rss_before) / 1024, 1)
            results["worker_peak_rss_mib"] = round(peak / 1024, 1)
    if limiter and redis_answers():
        # The same list served by fresh servers, warmed alike: rate limiting off; on with its counters in Redis
        # (moving window) and a limit the load never reaches; and off but paying one bare Redis round trip a
        # request (bench/redis_floor.py), the floor of any limiter shared through Redis.
        # Served off, on, floor, floor, on, off (each by a fresh server) and averaged per setting: the settings
        # see the same drift of a shared machine, rather than one setting its first minutes and another its last.
        prefix = f"bench-{os.getpid()}-{time.monotonic_ns()}"
        path = "/api/v1/bookings?page_size=50"
        settings = {"list_bookings_50_limits_off": ("wsgi:app", {}),
                    "list_bookings_50_limiter": ("wsgi:app", {"REDIS_URL": REDIS_URL,
                                                              "BOARDROOM_RATE_LIMIT_PREFIX": prefix,
                                                              "BOARDROOM_RATE_LIMIT": "100000000/minute"}),
                    "list_bookings_50_redis_round_trip": ("bench.redis_floor:app",
                                                          {"BENCH_FLOOR_REDIS_URL": REDIS_URL})}
        runs: dict[str, list[dict]] = {name: [] for name in settings}
        order = list(settings)
        for name in order + order[::-1]:
            app, extra = settings[name]
            with serve(app, url, extra_env=extra) as (base, _proc):
                with httpx.Client(base_url=base, headers=h, timeout=60) as warm:
                    assert ("RateLimit" in warm.get(path).headers) == (name == "list_bookings_50_limiter")
                wrk(base + path, seconds=1, token=token)  # warm both workers
                runs[name].append(wrk(base + path, seconds=seconds, token=token))
        for name, figures in runs.items():
            results[name] = {key: statistics.mean(f[key] for f in figures) for key in figures[0]}
        import redis

        store = redis.Redis.from_url(REDIS_URL)
        for key in store.scan_iter(f"*{prefix}*"):
            store.delete(key)
    elif limiter:
        print("Redis is not answering on", REDIS_URL, "- the rate-limiter row is left out", file=sys.stderr)
    trust_day = [0]

    def create(_client):
        trust_day[0] += 1
        day = datetime(2033, 1, 3, 18, tzinfo=UTC) + timedelta(days=trust_day[0])
        return "POST", "/api/v1/bookings", {"trust_id": ids["trust"], "starts_at": day.isoformat(),
                                            "format": "virtual"}, None

    requests = {
        "list_bookings_50": ("GET", "/api/v1/bookings?page_size=50", None, None),
        "list_bookings_5": ("GET", "/api/v1/bookings?page_size=5", None, None),
        "get_booking": ("GET", f"/api/v1/bookings/{ids['booking']}", None, None),
        "create_booking": create,
        "report": ("GET", "/api/v1/reports/programme", None, None),
        "slot_finder": ("GET", slot_q, None, None),
        "list_registrations_50": ("GET", f"/api/v1/bookings/{ids['masterclass']}/registrations?page_size=50", None, None),
        "list_registrations_5": ("GET", f"/api/v1/bookings/{ids['masterclass']}/registrations?page_size=5", None, None),
        "get_masterclass": ("GET", f"/api/v1/bookings/{ids['masterclass']}", None, None),
    }
    if feeds.get("speaker"):
        requests["speaker_feed"] = ("GET", f"/feeds/{feeds['speaker']}", None, None)
    if feed and feeds.get("programme"):
        feed_path = f"/feeds/{feeds['programme']}"

        def feed_cold(client):
            client.patch(f"/api/v1/bookings/{ids['booking']}", headers={"If-Match": "*", **h},
                         json={"title": f"Board development session {time.monotonic_ns()}"})
            return "GET", feed_path, None, None

        def feed_304(client):
            return "GET", feed_path, None, {"If-None-Match": client.get(feed_path).headers["ETag"]}

        requests.update(programme_feed_cold=feed_cold, programme_feed_304=feed_304)
    counts = query_counts(url, token, requests)
    for name, n in counts.items():
        results.setdefault(name, {})["queries"] = n
    return results


def baselines(url: str, seconds: float) -> dict:
    out = {}
    with serve("bench.baseline:textbook", url) as (base, _):
        out["textbook_list_50"] = wrk(base + "/rows", seconds=seconds)
    with serve("bench.baseline:bare", url) as (base, _):
        out["bare_json"] = wrk(base + "/json", seconds=seconds)
    return out


# --- goals and the table ---------------------------------------------------------------------------------

def goals(small: dict, large: dict, feed: dict, base: dict, ical_seconds: float) -> list[tuple[str, float, float, bool]]:
    rows = []

    def add(name, value, limit, ok):
        rows.append((name, round(value, 3), limit, bool(ok)))

    if "programme_feed_cold" in feed:
        r = feed["programme_feed_cold"]["p50_ms"] / (ical_seconds * 1000)
        add("programme feed cold / icalendar from scratch (5,000 events)", r, 0.15, r <= 0.15)
        r = feed["programme_feed_304"]["p50_ms"] / feed["healthz"]["p50_ms"]
        add("programme feed 304 / healthz (p50)", r, 3.0, r <= 3.0)
        add("worker RSS growth serving the feed (MiB)", feed["worker_rss_growth_mib"], 50, feed["worker_rss_growth_mib"] <= 50)
    if "speaker_feed" in large:
        r = large["speaker_feed"]["p50_ms"] / large["get_booking"]["p50_ms"]
        add("speaker feed / get booking at large size (p50)", r, 2.0, r <= 2.0)
    r = large["list_bookings_50"]["rps"] / base["textbook_list_50"]["rps"]
    add("list 50 bookings throughput / textbook list 50", r, 1.0, r >= 1.0)
    if "list_bookings_50_limiter" in large:
        r = large["list_bookings_50_limiter"]["rps"] / large["list_bookings_50_limits_off"]["rps"]
        add("list 50 throughput, rate limits on (Redis) / off", r, 0.9, r >= 0.9)
    q = max(large["list_bookings_50"].get("queries", 99), large["list_bookings_5"].get("queries", 99))
    add("SQL queries per list request (page 5 and 50)", q, 5, q <= 5)
    q = max(large[n].get("queries", 99) for n in ("list_registrations_50", "list_registrations_5"))
    add("SQL queries per registrations list (page 5 and 50, 200 registrations)", q, 5, q <= 5)
    q = max(small["get_masterclass"].get("queries", 99), large["get_masterclass"].get("queries", 99))
    add("SQL queries per masterclass GET (same as any booking GET)", q, large["get_booking"].get("queries", 99),
        q <= large["get_booking"].get("queries", 99))
    for name in ("list_bookings_50", "get_booking", "create_booking"):
        r = large[name]["p50_ms"] / small[name]["p50_ms"]
        add(f"{name} p50 large / small", r, 1.5, r <= 1.5)
    q = large["create_booking"].get("queries", 99)
    add("SQL queries per create booking", q, 8, q <= 8)
    r = large["create_booking"]["p99_ms"] / large["create_booking"]["p50_ms"]
    add("create booking p99 / p50 (two workers writing)", r, 20, r <= 20)
    r = large["slot_finder"]["p50_ms"] / large["get_booking"]["p50_ms"]
    add("slot finder (3 speakers, 4 weeks) / get (p50)", r, 10, r <= 10)
    r = large["report"]["p50_ms"] / large["get_booking"]["p50_ms"]
    add("programme report at large size / get (p50)", r, 20, r <= 20)
    return rows


def print_table(db: str, sizes: dict, base: dict, rows, ical_seconds: float) -> None:
    print(f"\n== Boardroom benchmark on {db} ==")
    print(f"baselines: bare JSON {base['bare_json']['rps']:.0f} req/s p50 {base['bare_json']['p50_ms']:.2f} ms; "
          f"textbook list 50 {base['textbook_list_50']['rps']:.0f} req/s p50 {base['textbook_list_50']['p50_ms']:.2f} ms; "
          f"icalendar 5,000 events from scratch {ical_seconds * 1000:.0f} ms")
    print(f"{'endpoint':<24}{'size':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'queries':>9}{'× textbook':>12}")
    for size, res in sizes.items():
        for name, fig in res.items():
            if not isinstance(fig, dict) or "p50_ms" not in fig:
                continue
            ratio = base["textbook_list_50"]["p50_ms"] and fig["p50_ms"] / base["textbook_list_50"]["p50_ms"]
            print(f"{name:<24}{size:>8}{fig['rps']:>9.0f}{fig['p50_ms']:>9.2f}{fig['p99_ms']:>9.2f}"
                  f"{fig.get('queries', ''):>9}{ratio:>12.2f}")
    print("\ngoal                                                          value     limit  result")
    for name, value, limit, ok in rows:
        print(f"{name:<60}{value:>9}{limit:>9}  {'PASS' if ok else 'FAIL'}")
    large = next((res for res in sizes.values() if "list_bookings_50_redis_round_trip" in res), None)
    if large:
        off, floor = large["list_bookings_50_limits_off"]["rps"], large["list_bookings_50_redis_round_trip"]["rps"]
        print(f"\nlimiter row's floor: one bare Redis round trip a request (no limiting) / off = {floor / off:.3f}; "
              f"rate limits on / that floor = {large['list_bookings_50_limiter']['rps'] / floor:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and 1-second runs")
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--feed-size", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    small_n, large_n = (int(s) for s in args.sizes.split(","))
    feed_n, seconds = args.feed_size, args.seconds
    if args.smoke:
        small_n, large_n, feed_n, seconds = 40, 120, 60, 1
    base_url = os.environ.get("BENCH_DATABASE_URL")
    db = "postgresql" if base_url else "sqlite"
    workdir = Path(tempfile.mkdtemp(prefix="boardroom-bench-"))
    try:
        ical_seconds = icalendar_from_scratch(feed_n)
        sizes = {}
        sizes[small_n] = measure_size(database_for(small_n, base_url, workdir), small_n, seconds)
        sizes[large_n] = measure_size(database_for(large_n, base_url, workdir), large_n, seconds, limiter=True)
        sizes[feed_n] = measure_size(database_for(feed_n, base_url, workdir), feed_n, seconds, feed=True)
        base = baselines(database_for(small_n, base_url, workdir) if not base_url else
                         f"{base_url.rpartition('/')[0]}/{base_url.rpartition('/')[2]}_{small_n}", seconds)
        rows = goals(sizes[small_n], sizes[large_n], sizes[feed_n], base, ical_seconds)
        print_table(db, sizes, base, rows, ical_seconds)
        results_dir = Path(os.environ.get("BOARDROOM_BENCH_RESULTS") or ROOT / "bench" / "results")
        out = results_dir / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{db}{'-smoke' if args.smoke else ''}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"database": db, "smoke": args.smoke, "sizes": sizes, "baselines": base,
                                   "icalendar_seconds": ical_seconds,
                                   "goals": [{"goal": n, "value": v, "limit": lim, "pass": ok}
                                             for n, v, lim, ok in rows]}, indent=2, default=str))
        print(f"\nwrote {out}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
