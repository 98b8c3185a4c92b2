"""Configuration: defaults, then environment overrides (BOARDROOM_ENV, DATABASE_URL, ...)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from limits import parse_many

ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(RuntimeError):
    """A setting that cannot work; its message is the one line shown before the command stops."""


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _rate(name: str, default: str) -> str:
    value = (os.environ.get(name) or default).strip()
    if value.lower() == "off":  # e.g. behind a gateway that limits already
        return "off"
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name} must be a rate such as '600/minute' (or 'off'), not {value!r}") from None
    return value


def _base_url(env: str) -> str | None:
    raw = (os.environ.get("PUBLIC_BASE_URL") or "").strip()
    if not raw:
        if env == "production":
            raise ConfigError("PUBLIC_BASE_URL is required in production (e.g. https://boardroom.example.org): "
                              "feed URLs and links are never built from the request's Host header")
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"PUBLIC_BASE_URL must be an absolute http(s) URL such as https://boardroom.example.org, "
                          f"not {raw!r}")
    return raw.rstrip("/")


def _origins() -> list[str]:
    origins = []
    for raw in os.environ.get("BOARDROOM_CORS_ORIGINS", "").split(","):
        origin = raw.strip().rstrip("/")
        if not origin:
            continue
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise ConfigError(f"BOARDROOM_CORS_ORIGINS must list origins such as https://tools.example.org, "
                              f"not {raw.strip()!r}")
        origins.append(origin)
    return origins


def _log_level() -> str:
    level = (os.environ.get("BOARDROOM_LOG_LEVEL") or "WARNING").strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"BOARDROOM_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    return level


def _redis_url() -> str | None:
    raw = (os.environ.get("REDIS_URL") or "").strip()
    if raw and urlsplit(raw).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"REDIS_URL must be a redis://, rediss:// or unix:// URL, not {raw!r}")
    return raw or None


SMTP_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpSettings:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None


def parse_smtp_url(raw: str) -> SmtpSettings:
    """``smtp://host:port``, ``smtp+starttls://user:password@host:587`` or ``smtps://...``; ValueError otherwise."""
    parts = urlsplit(raw)
    if parts.scheme not in SMTP_SCHEMES or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ValueError(raw)
    port = parts.port or SMTP_SCHEMES[parts.scheme]  # ValueError for a port that is not 1-65535
    return SmtpSettings(parts.scheme, parts.hostname, port, unquote(parts.username) if parts.username else None,
                        unquote(parts.password) if parts.password else None)


def _smtp_url() -> str | None:
    raw = (os.environ.get("BOARDROOM_SMTP_URL") or "").strip()
    if not raw:
        return None
    try:
        parse_smtp_url(raw)
    except ValueError:
        raise ConfigError("BOARDROOM_SMTP_URL must look like smtp://host:25, smtp+starttls://user:password@host:587 "
                          "or smtps://user:password@host:465 (unset: emails are written to instance/mail/)") from None
    return raw


def default_sqlite_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "boardroom.sqlite3")


def load(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the app config from defaults, the environment and explicit overrides."""
    env = (os.environ.get("BOARDROOM_ENV") or "development").strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"BOARDROOM_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    config = {
        "BOARDROOM_ENV": env,
        "DATABASE_URL": os.environ.get("DATABASE_URL") or default_sqlite_url(instance_path),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "PUBLIC_BASE_URL": _base_url(env),
        # Without PUBLIC_BASE_URL (development and testing only), absolute URLs use this, never the Host header.
        "FALLBACK_BASE_URL": f"http://127.0.0.1:{_int('PORT', 5000, 1)}",
        "ORGANIZER_EMAIL": os.environ.get("BOARDROOM_ORGANIZER_EMAIL", "programme@boardroom.example"),
        "ORGANIZER_NAME": os.environ.get("BOARDROOM_ORGANIZER_NAME", "Board Development Programme"),
        "IDEMPOTENCY_TTL_HOURS": _int("BOARDROOM_IDEMPOTENCY_TTL_HOURS", 48, 1),
        "FEED_HISTORY_DAYS": _int("BOARDROOM_FEED_HISTORY_DAYS", 365),
        "FEED_CANCELLED_DAYS": 30,
        # Each worker keeps feeds' current bodies up to this size, for polls without If-None-Match (0: none).
        "FEED_CACHE_MB": _int("BOARDROOM_FEED_CACHE_MB", 16),
        "RETENTION_DAYS": _int("BOARDROOM_RETENTION_DAYS", 2555, 1),
        "BOOKING_URL_TEMPLATE": os.environ.get("BOARDROOM_BOOKING_URL_TEMPLATE"),  # e.g. https://app/bookings/{id}
        # Invitation emails: SMTP when set, else .eml files in MAIL_DIR; reminders N days before (0: none).
        "SMTP_URL": _smtp_url(),
        "MAIL_DIR": os.environ.get("BOARDROOM_MAIL_DIR") or str(Path(instance_path) / "mail"),
        "REMINDER_DAYS": _int("BOARDROOM_REMINDER_DAYS", 2),
        # Serving: rate limits (moving 60-second window), shared counters, CORS, proxies.
        "RATE_LIMIT": _rate("BOARDROOM_RATE_LIMIT", "600/minute"),
        "FEED_RATE_LIMIT": _rate("BOARDROOM_FEED_RATE_LIMIT", "60/minute"),
        "SURVEY_RATE_LIMIT": _rate("BOARDROOM_SURVEY_RATE_LIMIT", "60/hour"),  # answers per survey link
        "REDIS_URL": _redis_url(),
        "RATE_LIMIT_KEY_PREFIX": os.environ.get("BOARDROOM_RATE_LIMIT_PREFIX", "boardroom"),
        "CORS_ORIGINS": _origins(),
        "TRUSTED_PROXIES": _int("BOARDROOM_TRUSTED_PROXIES", 0),
        "LOG_LEVEL": _log_level(),
        # flask-smorest / apispec
        "API_TITLE": "Boardroom API",
        "API_VERSION": "1.0.0",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
    config.update(overrides or {})
    return config
