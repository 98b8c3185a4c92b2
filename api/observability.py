"""Operations: a request id on every response and log line, JSON logs, and Prometheus ``/metrics``.

Request ids: a client's ``X-Request-Id`` is kept when it is 1-128 visible characters from
``[A-Za-z0-9._:-]`` (so it is safe in a log line), otherwise a new one is made; every response
echoes it and every log line written while serving the request carries it.

Metrics come from ``prometheus_client``. Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` (set by
``gunicorn.conf.py``) makes every worker write its samples to files there, and a scrape of any
worker adds them up. Database-backed figures (outbox lag, deliveries by status) come from
collectors the domain packages register; they read at scrape time, so every process and
instance shows the same.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, Response, current_app, g, has_request_context, request
from flask.views import MethodView
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from pythonjsonlogger.json import JsonFormatter

from api.logsafe import redact_path
from api.web import Blueprint

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

REQUESTS = Counter("boardroom_http_requests_total", "HTTP requests answered, by route template, method and status.",
                   ["method", "route", "status"])
LATENCY = Histogram("boardroom_http_request_duration_seconds", "Time to answer a request, by route template.",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))

metrics_blp = Blueprint("metrics", __name__, description="Prometheus metrics for coordinators and `metrics` tokens.")


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


def configure_logging(level: str = "WARNING") -> None:
    """JSON lines on stderr for Boardroom's own loggers, once per process (tests keep pytest's capture)."""
    logger = logging.getLogger("boardroom")
    if any(getattr(h, "_boardroom", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._boardroom = True
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter("{asctime}{levelname}{name}{message}{request_id}", style="{",
                                       rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    logger.addHandler(handler)
    logger.setLevel(level)
    for name in ("flask-limiter",):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(level)


def init_app(app: Flask) -> None:
    if not app.testing:
        configure_logging(app.config["LOG_LEVEL"])

    @app.before_request
    def _start():
        g.started = time.perf_counter()
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = sent if _VALID_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id") or uuid.uuid4().hex
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        if "started" in g:
            LATENCY.labels(request.method, route).observe(time.perf_counter() - g.started)
        return response


def register_collector(app: Flask, collector) -> None:
    """Add a scrape-time collector (an object with ``collect()``); domain packages register theirs at assembly."""
    app.extensions.setdefault("metrics_collectors", []).append(collector)


def exposition(collectors) -> bytes:
    """Prometheus text: this process's (or, under gunicorn, every worker's) samples, then the registered ones'."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    scraped = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        scraped.register(collector)
    return generate_latest(registry) + generate_latest(scraped)


@metrics_blp.route("/metrics")
class Metrics(MethodView):
    @metrics_blp.access("coordinator", "metrics")
    @metrics_blp.response(200, {"type": "string"}, content_type=CONTENT_TYPE_LATEST.split(";")[0],
                          description="Prometheus text exposition format 0.0.4.")
    def get(self):
        """Prometheus metrics

        Requests by route template, method and status; latency histograms; outbox lag; webhook
        deliveries by status. For a Prometheus scraper with a `metrics` token (or a coordinator).
        """
        return Response(exposition(current_app.extensions.get("metrics_collectors", [])),
                        content_type=CONTENT_TYPE_LATEST)


def log_path() -> str:
    """The request's path fit for a log line: no query string, feed tokens masked."""
    return redact_path(request.path)
