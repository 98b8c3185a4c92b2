"""Domain exceptions and their RFC 9457 problem+json rendering."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://boardroom.example/problems/"


class ProblemError(Exception):
    """An error a client can act on; rendered as problem+json by the one handler."""

    status = 400
    slug = "bad-request"
    title: str | None = None

    def __init__(self, detail: str | None = None, *, errors: dict | None = None,
                 headers: dict | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title or "")
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


class MalformedBody(ProblemError):
    """A body that cannot be read as the JSON the API takes (400)."""

    status, slug, title = 400, "malformed-request", "Malformed request"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Not allowed for this token's role"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict with the current state"


class SchedulingConflict(Conflict):
    slug, title = "scheduling-conflict", "Scheduling conflict"


class PreconditionFailed(ProblemError):
    status, slug, title = 412, "precondition-failed", "The resource has changed (stale If-Match)"


class PreconditionRequired(ProblemError):
    status, slug, title = 428, "precondition-required", "If-Match header required"


class ValidationFailed(ProblemError):
    """A request that is well-formed JSON but breaks the schema or a reference (422)."""

    status, slug, title = 422, "validation-error", "The request is not valid"

    def __init__(self, errors: dict, detail: str | None = None, **kw: Any) -> None:
        super().__init__(detail or _summarise(errors), errors=errors, **kw)


def _summarise(errors: dict) -> str:
    parts = []
    for field, messages in errors.items():
        msg = messages[0] if isinstance(messages, list) and messages else messages
        parts.append(f"{field}: {msg}")
    return "; ".join(parts)[:500] or "The request is not valid."


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow/webargs nested messages into ``{"a.b.0.c": [msgs]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema" and prefix:
                name = prefix
            for k, v in flatten_errors(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "_schema"] = list(messages)
        else:
            for i, value in enumerate(messages):
                for k, v in flatten_errors(value, f"{prefix}.{i}" if prefix else str(i)).items():
                    out.setdefault(k, []).extend(v)
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


def problem_response(status: int, *, title: str | None = None, detail: str | None = None,
                     slug: str | None = None, errors: dict | None = None,
                     headers: dict | None = None, **extra: Any) -> Response:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail or title or phrase,
    }
    if errors is not None:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if v is not None})
    response = Response(json.dumps(body, default=str), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def render_problem(error: ProblemError) -> Response:
    return problem_response(error.status, title=error.title, detail=error.detail, slug=error.slug,
                            errors=error.errors, headers=error.headers, **error.extra)


_HTTP_SLUGS = {400: "malformed-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
               405: "method-not-allowed", 406: "not-acceptable", 409: "conflict", 412: "precondition-failed",
               413: "payload-too-large", 415: "unsupported-media-type", 422: "validation-error",
               428: "precondition-required", 429: "too-many-requests", 500: "internal-error"}


def render_http_exception(error: HTTPException) -> Response:
    """Render werkzeug/webargs HTTP errors (routing, body size, parsing) as problems."""
    status = error.code or 500
    if status >= 500:
        return internal_error()
    data = getattr(error, "data", None) or {}
    errors = None
    detail = error.description
    if "messages" in data or "errors" in data:
        raw = data.get("errors", data.get("messages"))
        # webargs nests by location ({"json": {...}, "query": {...}}); clients want field names.
        if isinstance(raw, dict) and set(raw) <= {"json", "query", "headers", "form", "files", "view_args", "cookies", "path"}:
            merged: dict[str, list[str]] = {}
            for value in raw.values():
                for k, v in flatten_errors(value).items():
                    merged.setdefault(k, []).extend(v)
            errors = merged
        else:
            errors = flatten_errors(raw)
        if status == 400:
            detail = "The request body is not valid JSON." if _is_json_error(errors) else _summarise(errors)
            errors = None
        else:
            detail = _summarise(errors)
    headers = {}
    for name, value in error.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            headers[name] = value
    if status == 413:
        detail = "The request body is larger than the 1 MiB limit."
    title = {422: "The request is not valid", 400: "Malformed request"}.get(status)
    return problem_response(status, title=title, detail=detail, slug=_HTTP_SLUGS.get(status),
                            errors=errors, headers=headers)


def _is_json_error(errors: dict) -> bool:
    return any("json" in m.lower() for msgs in errors.values() for m in msgs)


def internal_error() -> Response:
    return problem_response(500, title="Internal server error",
                            detail="Something went wrong on our side; it has been logged.",
                            slug="internal-error")
