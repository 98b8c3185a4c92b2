"""Keep secrets out of logs: no query strings at all, and feed tokens masked however the path is spelled."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from gunicorn.glogging import Logger

# After percent-decoding: a feed path (``/feeds/<token>.ics``) and any token-shaped word (``brf_...``,
# ``brt_...``) wherever it appears, so ``/feeds%2F<token>.ics`` or ``/%66eeds/<token>.ics`` hide it too.
_FEED_TOKEN = re.compile(r"(/feeds/+)[^/?\s]+", re.IGNORECASE)
_ANY_TOKEN = re.compile(r"br[a-z]_[A-Za-z0-9_\-]{8,}", re.IGNORECASE)


def redact_path(text: str) -> str:
    """``/feeds/brf_secret.ics`` -> ``/feeds/***``; the query string, if any, is dropped."""
    path = (text or "").split("?", 1)[0]
    for _ in range(3):  # %2566eeds decodes to %66eeds: decode until nothing changes (bounded)
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    return _ANY_TOKEN.sub("***", _FEED_TOKEN.sub(r"\1***", path))


class RedactingLogger(Logger):
    """gunicorn's logger writing access-log lines as JSON: path without its query string, tokens masked,
    and the response's ``X-Request-Id`` (``--logger-class api.logsafe.RedactingLogger``)."""

    def atoms(self, resp, req, environ, request_time):
        # For any custom --access-logformat too: no query string, tokens masked, referrer included.
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path(environ.get("RAW_URI") or environ.get("PATH_INFO") or "")
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}"
        atoms["U"] = path
        atoms["q"] = ""
        atoms["f"] = redact_path(atoms.get("f") or "-")
        for key in list(atoms):
            if key.endswith("}e"):  # raw WSGI environ values: paths with query strings, tokens
                del atoms[key]
            elif key in ("{authorization}i", "{cookie}i", "{proxy-authorization}i"):
                atoms[key] = "***"
            elif key == "{referer}i":
                atoms[key] = redact_path(atoms[key])
        return atoms

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        request_id = next((value for name, value in resp.headers if name.lower() == "x-request-id"), None)
        line = {
            "time": self.now().strip("[]"),
            "logger": "access",
            "remote": environ.get("REMOTE_ADDR", "-"),
            "method": environ.get("REQUEST_METHOD"),
            "path": redact_path(environ.get("RAW_URI") or environ.get("PATH_INFO") or ""),
            "status": int(status) if str(status).isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": request_id,
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        try:
            self.access_log.info(json.dumps(line))
        except Exception:  # noqa: BLE001
            self.error("access log line could not be written")
