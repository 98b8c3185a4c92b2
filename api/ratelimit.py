"""Rate limits: flask-limiter over a moving 60-second window, per token, per client address, per feed.

Which counter a request draws on:
- ``/api/v1`` with a valid token: that token's (every route shares it);
- ``/api/v1`` without a valid token (none, unknown, revoked, malformed): the client address's,
  so guessing tokens costs the guesser;
- ``/feeds/{token}.ics``: that feed's, keyed by a hash of the feed token (no secret in Redis);
- answers posted to ``/survey/{token}``: that survey link's (``limit_surveys``), counting stored answers only.
Probes, docs, the dashboard and ``/metrics`` are not limited, nor CORS preflights. A limit set to
``off`` is not applied (for a deployment behind a gateway that limits already).

Counters live in memory (per process) unless ``REDIS_URL`` is set; then every worker and every
instance shares them, and a request costs one Redis round trip whatever its window holds (``OneTripRedisStorage``). Each limited response carries the IETF httpapi-ratelimit-headers draft's
``RateLimit-Policy`` and ``RateLimit``; a refused one is 429 problem+json with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_limiter import Limiter, RequestLimit
from limits.storage import RedisStorage
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("boardroom.ratelimit")

API_POLICY = "api"
FEED_POLICY = "feed"
SURVEY_POLICY = "survey"


def _api_limit() -> str:
    return current_app.config["RATE_LIMIT"]


def _feed_limit() -> str:
    return current_app.config["FEED_RATE_LIMIT"]


def _feed_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return "feed:" + hashlib.sha256(token.encode()).hexdigest()[:32]


class OneTripRedisStorage(RedisStorage):
    """limits' Redis storage with the moving window kept in a sorted set: one round trip, whatever the window holds.

    limits keeps a moving window as a list of hit times and finds the window's start by a binary search of
    ``LINDEX`` calls, each walking the list: a busy token's window (thousands of hits a minute) cost Redis about
    180 µs a request, and flask-limiter then reads the window again for the headers. Here one Lua script drops
    the hits older than the window (``ZREMRANGEBYSCORE``), counts the rest (``ZCARD``), adds the hit if there is
    room and returns the oldest one's time: the same moving window (a hit counts while it is younger than the
    window's length, as in limits), at logarithmic cost. Its answer is kept for the request, so the headers'
    read costs nothing; any other read runs its own small script. The sets live under their own key suffix, so
    limits' list keys from an earlier release never meet a sorted-set command.
    """

    STORAGE_SCHEME = ["boardroom+redis", "boardroom+rediss", "boardroom+unix"]
    PREFIX_SCHEME = "boardroom+"
    KEY_SUFFIX = ":zw"
    # KEYS[1] the window; ARGV: now (ms), the window's start (ms), limit, amount, expiry (ms), a unique member stem.
    SCRIPT_HIT = b"""
redis.call('zremrangebyscore', KEYS[1], '-inf', '(' .. ARGV[2])
local count = redis.call('zcard', KEYS[1])
local amount = tonumber(ARGV[4])
local acquired = 0
if count + amount <= tonumber(ARGV[3]) then
  for i = 1, amount do redis.call('zadd', KEYS[1], ARGV[1], ARGV[6] .. ':' .. i) end
  redis.call('pexpire', KEYS[1], ARGV[5])
  count = count + amount
  acquired = 1
end
local oldest = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
return {acquired, count, oldest[2] or ARGV[1]}
"""
    # KEYS[1] the window; ARGV: now (ms), the window's start (ms).
    SCRIPT_WINDOW = b"""
local oldest = redis.call('zrangebyscore', KEYS[1], ARGV[2], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
return {redis.call('zcount', KEYS[1], ARGV[2], '+inf'), oldest[2] or ARGV[1]}
"""

    def __init__(self, uri: str, **options) -> None:
        super().__init__(uri.removeprefix(self.PREFIX_SCHEME), **options)

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_hit = self.get_connection().register_script(self.SCRIPT_HIT)
        self.lua_window = self.get_connection().register_script(self.SCRIPT_WINDOW)

    def _run(self, script: Script, key: str, *args):
        """``script`` on ``key``: EVALSHA on a pooled connection, the source once if the server lacks it.

        The request's only Redis command, so it skips what redis-py's ``Script`` and ``execute_command`` add
        around a command and this path does not use (retries, per-command observability hooks, reply
        callbacks): about 50 µs of Python a request under gevent. The pool's checkout still makes sure the
        connection is live (a Redis restart reconnects on the next request); a connection that fails
        mid-command is dropped and the error raised, and flask-limiter then serves the request unlimited and
        logs it (``swallow_errors``).
        """
        pool = self.storage.connection_pool
        conn = pool.get_connection()
        try:
            try:
                conn.send_command("EVALSHA", script.sha, 1, key, *args)
                return conn.read_response()
            except NoScriptError:  # a restarted or flushed server: EVAL also caches the script again
                conn.send_command("EVAL", script.script, 1, key, *args)
                return conn.read_response()
        except (RedisConnectionError, RedisTimeoutError):
            conn.disconnect()
            raise
        finally:
            pool.release(conn)

    def window_key(self, key: str) -> str:
        return self.prefixed_key(key) + self.KEY_SUFFIX

    @staticmethod
    def _now_and_start(expiry: int) -> list[int]:
        """Now and the window's start, in integer milliseconds (the sorted set's scores)."""
        now_ms = int(time.time() * 1000)
        return [now_ms, now_ms - expiry * 1000]

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now_ms, start_ms = self._now_and_start(expiry)
        acquired, count, oldest = self._run(self.lua_hit, self.window_key(key),
                                            now_ms, start_ms, limit, amount, expiry * 1000,
                                            f"{now_ms}:{secrets.token_hex(6)}")
        if has_request_context():
            g.rate_window = (key, limit, expiry, (float(oldest) / 1000, int(count)))
        return bool(acquired)

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        kept = g.pop("rate_window", None) if has_request_context() else None
        if kept is not None and kept[:3] == (key, limit, expiry):
            return kept[3]
        count, oldest = self._run(self.lua_window, self.window_key(key), *self._now_and_start(expiry))
        return float(oldest) / 1000, int(count)

    def clear(self, key: str) -> None:
        self.get_connection().delete(self.prefixed_key(key), self.window_key(key))


def storage_uri(config) -> str:
    url = config.get("REDIS_URL")
    return OneTripRedisStorage.PREFIX_SCHEME + url if url else "memory://"


def init_limiter(app: Flask, identity: Callable[[], str], api_blueprints, feed_blueprint) -> Limiter:
    """Attach a limiter to ``app``; ``identity`` names the caller (``token:<id>`` or ``addr:<ip>``).

    Call before the app's own request hooks: the limiter's check must come first, and ``identity``
    resolves (and remembers for the request) the bearer token itself.
    """
    limiter = Limiter(
        key_func=identity,
        enabled=any(app.config.get(name, "off") != "off" for name in ("RATE_LIMIT", "FEED_RATE_LIMIT",
                                                                         "SURVEY_RATE_LIMIT")),
        strategy="moving-window",
        storage_uri=storage_uri(app.config),
        storage_options={"socket_timeout": 2, "socket_connect_timeout": 2} if app.config.get("REDIS_URL") else {},
        key_prefix=app.config["RATE_LIMIT_KEY_PREFIX"],
        headers_enabled=False,  # the draft's headers are written below
        swallow_errors=True,  # Redis unreachable: serve unlimited and log it, rather than fail every request
    )
    limiter.init_app(app)
    limiter.request_filter(lambda: request.method == "OPTIONS")
    if app.config["RATE_LIMIT"] != "off":
        for blp in api_blueprints:
            limiter.shared_limit(_api_limit, scope=API_POLICY, error_message=_too_many(API_POLICY))(blp)
    if app.config["FEED_RATE_LIMIT"] != "off":
        limiter.limit(_feed_limit, key_func=_feed_key, scope=FEED_POLICY, error_message=_too_many(FEED_POLICY))(
            feed_blueprint)

    @app.after_request
    def _ratelimit_headers(response: Response) -> Response:
        current = limiter.current_limit
        if current is not None:
            policy = {feed_blueprint.name: FEED_POLICY, "survey": SURVEY_POLICY}.get(request.blueprint, API_POLICY)
            try:
                _write_headers(response, current, policy)
            except Exception:  # the counter store is unreachable: the answer stands
                log.exception("rate-limit headers could not be computed")
        return response

    return limiter


def _too_many(policy: str) -> Callable[[], str]:
    def message() -> str:
        limit = _feed_limit() if policy == FEED_POLICY else _api_limit()
        whose = "this feed" if policy == FEED_POLICY else "this token (or, without a valid token, this address)"
        return f"Too many requests for {whose}: the limit is {limit} over a moving window. Retry after Retry-After seconds."
    return message


def _write_headers(response: Response, current: RequestLimit, policy: str) -> None:
    """``RateLimit-Policy: "api";q=600;w=60`` and ``RateLimit: "api";r=599;t=60`` (draft -09 syntax)."""
    quota = current.limit.amount
    window = current.limit.get_expiry()
    reset_at, remaining = current.limiter.get_window_stats(current.limit, *current.request_args)
    seconds = max(0, math.ceil(reset_at - time.time()))
    response.headers["RateLimit-Policy"] = f'"{policy}";q={quota};w={window}'
    response.headers["RateLimit"] = f'"{policy}";r={max(0, remaining)};t={seconds}'
    if current.breached or response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, seconds))


def _survey_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return "survey:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def limit_surveys(limiter: Limiter, app: Flask, survey_blueprint) -> None:
    """At most ``SURVEY_RATE_LIMIT`` answers per survey link (default 60 an hour), keyed by a hash of its token.

    Only POSTs that store an answer count (a form sent back with errors does not); over the limit the
    blueprint's own handler answers 429 as a page, with ``Retry-After``."""
    if app.config.get("SURVEY_RATE_LIMIT", "off") == "off":
        return
    limiter.limit(lambda: current_app.config["SURVEY_RATE_LIMIT"], key_func=_survey_key, scope=SURVEY_POLICY,
                  methods=["POST"], deduct_when=lambda response: response.status_code < 400)(survey_blueprint)
