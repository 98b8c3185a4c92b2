"""Configuration: defaults, then environment overrides (BOARDROOM_ENV, DATABASE_URL, ...)."""

from __future__ import annotations

import os
from pathlib import Path

ENVIRONMENTS = ("development", "testing", "production")


def default_sqlite_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "boardroom.sqlite3")


def load(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the app config from defaults, the environment and explicit overrides."""
    env = (os.environ.get("BOARDROOM_ENV") or "development").strip().lower()
    if env not in ENVIRONMENTS:
        raise RuntimeError(f"BOARDROOM_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    config = {
        "BOARDROOM_ENV": env,
        "DATABASE_URL": os.environ.get("DATABASE_URL") or default_sqlite_url(instance_path),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL"),
        "ORGANIZER_EMAIL": os.environ.get("BOARDROOM_ORGANIZER_EMAIL", "programme@boardroom.example"),
        "ORGANIZER_NAME": os.environ.get("BOARDROOM_ORGANIZER_NAME", "Board Development Programme"),
        "IDEMPOTENCY_TTL_HOURS": int(os.environ.get("BOARDROOM_IDEMPOTENCY_TTL_HOURS", "48")),
        "FEED_HISTORY_DAYS": int(os.environ.get("BOARDROOM_FEED_HISTORY_DAYS", "365")),
        "FEED_CANCELLED_DAYS": 30,
        "RETENTION_DAYS": int(os.environ.get("BOARDROOM_RETENTION_DAYS", "2555")),
        "BOOKING_URL_TEMPLATE": os.environ.get("BOARDROOM_BOOKING_URL_TEMPLATE"),  # e.g. https://app/bookings/{id}
        # flask-smorest / apispec
        "API_TITLE": "Boardroom API",
        "API_VERSION": "1.0.0",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
    config.update(overrides or {})
    return config
