"""Boardroom with rate limits off and one bare Redis round trip (PING) per request: the limiter row's floor.

Any limiter whose counters several instances share has to ask Redis once per request; this app pays exactly that
ask and nothing else, on a pooled connection the way ``api.ratelimit.OneTripRedisStorage`` does, so the bench can
tell the limiter's own cost (its script, flask-limiter, the headers) from the round trip's (the client's socket
calls, the loopback, Redis's event loop). Bench-only: served by ``bench/run.py`` beside the limiter row.
"""

from __future__ import annotations

import os

import redis

from wsgi import app as boardroom

_pool = redis.Redis.from_url(os.environ["BENCH_FLOOR_REDIS_URL"], socket_timeout=2).connection_pool


def app(environ, start_response):
    conn = _pool.get_connection()
    try:
        conn.send_command("PING")
        conn.read_response()
    finally:
        _pool.release(conn)
    return boardroom(environ, start_response)
