"""Keep secrets out of logs: feed URLs carry their token in the path."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

_FEED_TOKEN = re.compile(r"(/feeds/)[^/?\s]+")


def redact_path(text: str) -> str:
    """``/feeds/brf_secret.ics`` -> ``/feeds/***``."""
    return _FEED_TOKEN.sub(r"\1***", text or "")


class RedactingLogger(Logger):
    """gunicorn's logger with feed tokens removed from access-log lines (``--logger-class``)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U"):
            if key in atoms:
                atoms[key] = redact_path(atoms[key])
        return atoms
