"""Serving, in process: rate limits and their headers, request ids, /metrics, no-store, Host, settings."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid

import pytest

from tests.conftest import ROOT, ApiClient, problem

POLICY = re.compile(r'^"(api|feed)";q=(\d+);w=60$')
REMAINING = re.compile(r'^"(api|feed)";r=(\d+);t=(\d+)$')


@pytest.fixture
def limit(app, monkeypatch):
    """Lower a limit for this test (the suite's app runs with limits it never reaches)."""

    def _set(api: str | None = None, feed: str | None = None):
        if api:
            monkeypatch.setitem(app.config, "RATE_LIMIT", api)
        if feed:
            monkeypatch.setitem(app.config, "FEED_RATE_LIMIT", feed)

    return _set


def from_address(client, address: str) -> ApiClient:
    client.environ_base["REMOTE_ADDR"] = address
    return client


# --- rate limits ---------------------------------------------------------------------------------

def test_every_api_and_feed_response_carries_the_draft_headers(coordinator, client, app):
    r = coordinator.get("/api/v1/trusts")
    assert r.status_code == 200
    assert POLICY.match(r.headers["RateLimit-Policy"]).groups() == ("api", "1000000")
    name, remaining, reset = REMAINING.match(r.headers["RateLimit"]).groups()
    assert name == "api" and int(remaining) == 999_999 and 0 <= int(reset) <= 60
    assert coordinator.get("/api/v1/trusts").headers["RateLimit"].startswith('"api";r=999998;')
    feed = coordinator.post("/api/v1/feeds", json={"scope": "programme"}).json
    got = client.get(feed["url"].removeprefix("https://boardroom.test"))
    assert got.status_code == 200
    assert POLICY.match(got.headers["RateLimit-Policy"]).group(1) == "feed"
    assert got.headers["RateLimit"].startswith('"feed";r=999999;')
    # Errors count and say so too: a 404 inside the API, a 401 without a token.
    assert "RateLimit" in coordinator.get(f"/api/v1/trusts/{uuid.uuid4()}").headers
    assert "RateLimit" in client.get("/api/v1/trusts").headers


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json", "/docs", "/metrics"])
def test_probes_docs_and_metrics_are_not_limited(coordinator, path):
    r = coordinator.get(path)
    assert r.status_code == 200
    assert "RateLimit" not in r.headers and "RateLimit-Policy" not in r.headers


def test_a_token_over_its_limit_gets_429_problem_with_retry_after(coordinator, viewer, limit):
    limit(api="3/minute")
    answers = [coordinator.get("/api/v1/trusts") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["RateLimit"].split(";")[1] for a in answers] == ["r=2", "r=1", "r=0"]
    refused = coordinator.get("/api/v1/topics")  # every route draws on the same counter
    assert refused.status_code == 429
    body = problem(refused)
    assert "3/minute" in body["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Policy"] == '"api";q=3;w=60'
    assert refused.headers["RateLimit"].startswith('"api";r=0;')
    assert coordinator.post("/api/v1/trusts", json={"name": "X", "ods_code": "RX1", "region": "london"}
                            ).status_code == 429  # writes too, and nothing is written
    assert viewer.get("/api/v1/trusts").status_code == 200  # another token has its own counter


def test_requests_without_a_valid_token_count_against_the_client_address(client, coordinator, limit):
    limit(api="3/minute")
    guesser = ApiClient(from_address(client, "203.0.113.7"), "brt_guessed-token-that-does-not-exist")
    assert [guesser.get("/api/v1/trusts").status_code for _ in range(3)] == [401, 401, 401]
    assert guesser.get("/api/v1/trusts").status_code == 429
    anonymous = ApiClient(client, None)  # same address, no token at all: the same counter
    assert anonymous.get("/api/v1/trusts").status_code == 429
    # A valid token from that address is counted on its own.
    assert ApiClient(client, coordinator.token).get("/api/v1/trusts").status_code == 200
    other = ApiClient(from_address(client.application.test_client(), "203.0.113.8"), None)
    assert other.get("/api/v1/trusts").status_code == 401


def test_feeds_are_limited_per_feed_token(coordinator, client, limit):
    limit(feed="2/minute")
    first = coordinator.post("/api/v1/feeds", json={"scope": "programme"}).json
    second = coordinator.post("/api/v1/feeds", json={"scope": "programme"}).json
    path1 = first["url"].removeprefix("https://boardroom.test")
    path2 = second["url"].removeprefix("https://boardroom.test")
    assert [client.get(path1).status_code for _ in range(2)] == [200, 200]
    refused = client.get(path1)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert problem(refused)["status"] == 429
    assert refused.headers["RateLimit-Policy"] == '"feed";q=2;w=60'
    assert client.get(path2).status_code == 200


def test_rate_limit_settings_are_read_from_the_environment(monkeypatch, tmp_path):
    from api.config import load

    monkeypatch.setenv("BOARDROOM_RATE_LIMIT", "100/minute")
    monkeypatch.setenv("BOARDROOM_FEED_RATE_LIMIT", "5/minute")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    config = load(str(tmp_path))
    assert (config["RATE_LIMIT"], config["FEED_RATE_LIMIT"], config["REDIS_URL"]) == (
        "100/minute", "5/minute", "redis://127.0.0.1:6379/3")
    monkeypatch.delenv("BOARDROOM_RATE_LIMIT")
    monkeypatch.delenv("BOARDROOM_FEED_RATE_LIMIT")
    assert (load(str(tmp_path))["RATE_LIMIT"], load(str(tmp_path))["FEED_RATE_LIMIT"]) == ("600/minute", "60/minute")


# --- webhooks per partner ------------------------------------------------------------------------

def test_a_partner_has_at_most_ten_webhooks(partner, other_partner):
    for n in range(10):
        r = partner.post("/api/v1/webhooks", json={"url": f"http://127.0.0.1:9/hooks/{n}",
                                                   "events": ["booking.created"]})
        assert r.status_code == 201, r.get_data(as_text=True)
    eleventh = partner.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks/x", "events": ["booking.created"]})
    assert eleventh.status_code == 422
    assert "at most 10" in problem(eleventh)["errors"]["url"][0]
    assert len(partner.get("/api/v1/webhooks").json) == 10
    assert other_partner.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks/o",
                                                        "events": ["booking.created"]}).status_code == 201


# --- tokens only in the header; no-store; Host ---------------------------------------------------

def test_a_token_in_the_query_string_is_not_accepted(coordinator, client):
    r = client.get(f"/api/v1/trusts?access_token={coordinator.token}")
    assert r.status_code in (401, 422)
    assert coordinator.get("/api/v1/trusts").status_code == 200


def test_responses_with_secrets_or_personal_data_are_not_stored(coordinator, partner, create_contact):
    created = coordinator.post("/api/v1/tokens", json={"name": "ops", "role": "viewer"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    feed = coordinator.post("/api/v1/feeds", json={"scope": "programme"})
    assert feed.headers["Cache-Control"] == "no-store"
    rotated = coordinator.post(f"/api/v1/feeds/{feed.json['id']}/rotate")
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    hook = partner.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks", "events": ["booking.created"]})
    assert hook.status_code == 201 and hook.headers["Cache-Control"] == "no-store"
    rotated = partner.post(f"/api/v1/webhooks/{hook.json['id']}/rotate-secret")
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    contact = create_contact()
    export = coordinator.get(f"/api/v1/contacts/{contact.id}/export")
    assert export.status_code == 200 and export.headers["Cache-Control"] == "no-store"
    assert "no-store" not in coordinator.get("/api/v1/trusts").headers.get("Cache-Control", "")


def test_the_host_header_never_decides_links_or_feed_urls(coordinator, create_trust, app, monkeypatch):
    for _ in range(3):
        create_trust()
    for base in ("https://boardroom.test", None):
        monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", base)
        listed = coordinator.get("/api/v1/trusts?page_size=1", headers={"Host": "evil.example"})
        assert listed.status_code == 200
        assert "evil.example" not in listed.headers["Link"]
        assert '</api/v1/trusts?page_size=1&page=2>; rel="next"' in listed.headers["Link"]
        feed = coordinator.post("/api/v1/feeds", json={"scope": "programme"}, headers={"Host": "evil.example"})
        assert feed.status_code == 201
        assert "evil.example" not in feed.json["url"] and "evil.example" not in feed.json["webcal_url"]
        assert feed.json["url"].startswith(base or "http://127.0.0.1:")


# --- request ids and logs ------------------------------------------------------------------------

def test_every_response_carries_a_request_id(coordinator, client):
    mine = coordinator.get("/api/v1/trusts", headers={"X-Request-Id": "client-abc.123"})
    assert mine.headers["X-Request-Id"] == "client-abc.123"
    made = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-Id"])
    assert client.get("/healthz").headers["X-Request-Id"] != made.headers["X-Request-Id"]
    for bad in ("has space", "x" * 129, "new\\nline", "<script>"):
        got = coordinator.get("/api/v1/trusts", headers={"X-Request-Id": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", got.headers["X-Request-Id"])
    assert "X-Request-Id" in client.get("/no/such/path").headers
    assert "X-Request-Id" in client.post("/api/v1/trusts", data="{", content_type="application/json").headers


def test_json_log_lines_carry_the_request_id(coordinator, limit):
    from pythonjsonlogger.json import JsonFormatter

    from api.observability import RequestIdFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter("{levelname}{name}{message}{request_id}", style="{"))
    logger = logging.getLogger("flask-limiter")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        limit(api="1/minute")
        coordinator.get("/api/v1/trusts")
        refused = coordinator.get("/api/v1/trusts", headers={"X-Request-Id": "trace-429"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    assert refused.status_code == 429
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(line["request_id"] == "trace-429" and "exceeded" in line["message"] for line in lines), lines
    assert coordinator.token not in stream.getvalue()


@pytest.mark.parametrize("spelling", ["/feeds/{t}.ics", "/feeds%2F{t}.ics", "/%66eeds/{t}.ics", "/feeds/%62rf_{r}.ics",
                                      "/feeds//{t}.ics", "/FEEDS/{t}.ics", "/feeds/{t}.ics?access_token=brt_secretsecret"])
def test_access_log_masks_feed_tokens_and_drops_query_strings(spelling):
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from api.logsafe import RedactingLogger

    token = "brf_s3cretTokenValue123"
    raw = spelling.format(t=token, r=token.removeprefix("brf_"))
    logger = RedactingLogger(Config())
    stream = io.StringIO()
    logger.access_log.handlers = [logging.StreamHandler(stream)]
    logger.access_log.setLevel(logging.INFO)
    logger._access_log_enabled = True
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": raw, "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": raw,
               "QUERY_STRING": raw.partition("?")[2], "HTTP_REFERER": "https://x.example/feeds/" + token}
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[("X-Request-Id", "rid-1")], response_length=10)
    logger.access(resp, None, environ, timedelta(milliseconds=3))
    atoms = logger.atoms(resp, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=3))
    written = stream.getvalue() + json.dumps(atoms)
    assert "s3cretTokenValue123" not in written and "brt_secret" not in written and "access_token" not in written
    line = json.loads(stream.getvalue())
    assert line["request_id"] == "rid-1" and line["status"] == 200


# --- /metrics ------------------------------------------------------------------------------------

def test_metrics_for_coordinator_and_metrics_tokens_only(client, coordinator, viewer, partner, make_token):
    metrics = ApiClient(client, make_token("metrics"))
    coordinator.get("/api/v1/trusts")
    scraped = metrics.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["Content-Type"].startswith("text/plain")
    text = scraped.get_data(as_text=True)
    assert re.search(r'boardroom_http_requests_total\{method="GET",route="/api/v1/trusts",status="200"\} \d', text)
    assert 'boardroom_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/trusts"}' in text
    assert "boardroom_outbox_lag_seconds " in text and 'boardroom_webhook_deliveries{status="pending"}' in text
    assert coordinator.get("/metrics").status_code == 200
    assert viewer.get("/metrics").status_code == 403 and partner.get("/metrics").status_code == 403
    assert ApiClient(client, None).get("/metrics").status_code == 401
    # A metrics token reads /metrics only.
    assert metrics.get("/api/v1/trusts").status_code == 403
    assert metrics.get("/api/v1/bookings").status_code == 403


def test_tokens_create_accepts_the_metrics_role(coordinator):
    r = coordinator.post("/api/v1/tokens", json={"name": "prometheus", "role": "metrics"})
    assert r.status_code == 201 and r.json["role"] == "metrics"


# --- settings ------------------------------------------------------------------------------------

def _flask(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "BOARDROOM_ENV")}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env={**base, **env}, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("env, needle", [
    ({"BOARDROOM_ENV": "production"}, "PUBLIC_BASE_URL is required in production"),
    ({"BOARDROOM_ENV": "production", "PUBLIC_BASE_URL": "boardroom.example"}, "PUBLIC_BASE_URL must be"),
    ({"BOARDROOM_ENV": "staging"}, "BOARDROOM_ENV must be one of"),
    ({"BOARDROOM_RATE_LIMIT": "lots"}, "BOARDROOM_RATE_LIMIT must be a rate"),
    ({"BOARDROOM_IDEMPOTENCY_TTL_HOURS": "two"}, "BOARDROOM_IDEMPOTENCY_TTL_HOURS must be a whole number"),
    ({"BOARDROOM_CORS_ORIGINS": "tools.example/path"}, "BOARDROOM_CORS_ORIGINS must list origins"),
    ({"REDIS_URL": "http://cache"}, "REDIS_URL must be"),
])
def test_a_bad_setting_stops_every_command_with_one_line(env, needle, tmp_path):
    for command in (["routes"], ["db", "upgrade"], ["tokens", "create", "x", "--role", "viewer"]):
        done = _flask(*command, DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3", **env)
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], done.stderr
        assert "Traceback" not in done.stderr + done.stdout


def test_production_with_public_base_url_starts(tmp_path):
    done = _flask("routes", DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3", BOARDROOM_ENV="production",
                  PUBLIC_BASE_URL="https://boardroom.example.org")
    assert done.returncode == 0, done.stderr
    assert "/metrics" in done.stdout


def test_an_unreachable_redis_fails_open(app, coordinator, monkeypatch):
    """Counters unavailable: requests are served (unlimited, logged), never a 500."""
    from limits.storage import storage_from_string
    from limits.strategies import MovingWindowRateLimiter

    from api import create_app  # noqa: F401 - the app under test is the suite's; its limiter's storage is swapped

    limiter = next(iter(app.extensions["limiter"]))
    dead = storage_from_string("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(limiter, "_storage", dead)
    monkeypatch.setattr(limiter, "_limiter", MovingWindowRateLimiter(dead))
    r = coordinator.get("/api/v1/trusts")
    assert r.status_code == 200


@pytest.fixture
def redis_storage(app, monkeypatch):
    """The suite's limiter counting in Redis (OneTripRedisStorage, a key prefix of its own); the storage."""
    from limits.strategies import MovingWindowRateLimiter

    from api.ratelimit import OneTripRedisStorage
    from tests.test_instances import REDIS_URL, require_redis

    require_redis()
    storage = OneTripRedisStorage("boardroom+" + REDIS_URL, key_prefix=f"test-{uuid.uuid4().hex[:12]}")
    limiter = next(iter(app.extensions["limiter"]))
    monkeypatch.setattr(limiter, "_storage", storage)
    monkeypatch.setattr(limiter, "_limiter", MovingWindowRateLimiter(storage))
    yield storage
    storage.reset()


def test_with_redis_a_request_costs_one_round_trip_and_the_headers_stay_exact(coordinator, limit, monkeypatch,
                                                                              redis_storage):
    """The hit and the window's stats for the headers come back from one Lua call (OneTripRedisStorage)."""
    from redis.connection import Connection

    from api.ratelimit import storage_uri
    from tests.test_instances import REDIS_URL

    assert storage_uri({"REDIS_URL": REDIS_URL}) == "boardroom+" + REDIS_URL
    limit(api="5/minute")
    calls = []
    real = Connection.send_command
    monkeypatch.setattr(Connection, "send_command", lambda self, *a, **kw: calls.append(a[0]) or real(self, *a, **kw))
    coordinator.get("/api/v1/trusts")  # the pool's first connection: its handshake (CLIENT SETINFO, SELECT)
    seen = []
    for n in range(4):
        if n == 1:
            redis_storage.get_connection().script_flush()  # a restarted Redis has forgotten the script: sent once more
        calls.clear()
        r = coordinator.get("/api/v1/trusts")
        seen.append((r.status_code, REMAINING.match(r.headers["RateLimit"]).group(2)))
        assert calls == (["EVALSHA", "EVAL"] if n == 1 else ["EVALSHA"]), (n, calls)
    assert seen == [(200, "3"), (200, "2"), (200, "1"), (200, "0")]
    r = coordinator.get("/api/v1/trusts")
    assert r.status_code == 429 and REMAINING.match(r.headers["RateLimit"]).group(2) == "0"
    assert 1 <= int(r.headers["Retry-After"]) <= 60


def test_a_redis_connection_lost_mid_request_serves_it_and_the_next_one_counts_again(coordinator, limit,
                                                                                      monkeypatch, redis_storage):
    """A dropped connection costs one unlimited (logged) request, never a 500; the pool reconnects for the next."""
    from redis.connection import Connection

    limit(api="3/minute")
    assert REMAINING.match(coordinator.get("/api/v1/trusts").headers["RateLimit"]).group(2) == "2"
    real = Connection.read_response

    def lost(self, *a, **kw):
        self._sock.close()  # the server went away after the command was sent
        return real(self, *a, **kw)

    with monkeypatch.context() as broken:
        broken.setattr(Connection, "read_response", lost)
        r = coordinator.get("/api/v1/trusts")
    assert r.status_code == 200 and "RateLimit" not in r.headers
    r = coordinator.get("/api/v1/trusts")
    assert r.status_code == 200 and REMAINING.match(r.headers["RateLimit"]).group(2) in {"0", "1"}


def test_the_redis_window_moves_and_counts_every_hit_of_a_busy_one():
    """The sorted-set window: a hit counts while younger than the window; a busy window counts every hit."""
    import time as clock

    from limits import parse
    from limits.strategies import MovingWindowRateLimiter

    from api.ratelimit import OneTripRedisStorage
    from tests.test_instances import REDIS_URL, require_redis

    require_redis()
    storage = OneTripRedisStorage("boardroom+" + REDIS_URL, key_prefix=f"test-{uuid.uuid4().hex[:12]}")
    limiter = MovingWindowRateLimiter(storage)
    small = parse("3 per 2 seconds")
    assert [limiter.hit(small, "a") for _ in range(4)] == [True, True, True, False]
    reset_at, remaining = limiter.get_window_stats(small, "a")
    assert remaining == 0 and 0 < reset_at - clock.time() <= 2
    clock.sleep(2.1)
    assert limiter.hit(small, "a") and limiter.get_window_stats(small, "a").remaining == 2

    busy = parse("100000 per minute")
    for _ in range(3000):
        limiter.hit(busy, "busy")
    assert limiter.get_window_stats(busy, "busy").remaining == 100000 - 3000
    storage.reset()


def test_the_document_declares_429_and_the_ratelimit_headers_a_refused_request_sends(app, coordinator, limit):
    """Typed clients can read the quota and the wait: every rate-limited operation (the API and the feeds)
    declares 429 with Retry-After and both RateLimit headers, and its successes declare the RateLimit headers;
    probes and docs declare neither. A real refusal sends exactly what the document names."""
    document = app.test_client().get("/openapi.json").get_json()
    limited = unlimited = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            if path.startswith(("/api/v1/", "/feeds/")):
                limited += 1
                assert responses.get("429") == {"$ref": "#/components/responses/Problem429"}, (method, path)
                for code, response in responses.items():
                    if code.startswith("2") and "$ref" not in response:
                        assert {"RateLimit-Policy", "RateLimit"} <= set(response.get("headers", {})), (method, path)
            else:
                unlimited += 1
                assert "429" not in responses, (method, path)
    assert limited > 50 and unlimited >= 2
    declared = set(document["components"]["responses"]["Problem429"]["headers"])
    assert declared == {"Retry-After", "RateLimit-Policy", "RateLimit"}

    limit(api="1/minute")
    assert coordinator.get("/api/v1/topics").status_code == 200
    refused = coordinator.get("/api/v1/topics")
    assert refused.status_code == 429
    assert declared <= set(refused.headers.keys())
    assert int(refused.headers["Retry-After"]) >= 0
    assert problem(refused)["type"] == document["components"]["responses"]["Problem429"]["content"][
        "application/problem+json"]["example"]["type"]
