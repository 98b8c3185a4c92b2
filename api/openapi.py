"""OpenAPI document: shared components (security, problem responses, headers) and the intro text."""

from __future__ import annotations

import re
from http import HTTPStatus

from apispec import BasePlugin

from api.web import _STATUS_DESCRIPTIONS, IDEMPOTENCY_PARAM, IF_NONE_MATCH_PARAM

INTRO = """\
Boardroom is the system of record for a board development programme run with NHS trust boards:
trusts and their board contacts, bookings of sessions and their lifecycle, speakers from a worldwide
expert network, outcomes, calendar invites and feeds, and partner webhooks.

**Authentication.** Send `Authorization: Bearer <token>`. Roles: `coordinator` (everything),
`viewer` (read only), `partner` (its own bookings, public trust and speaker data, its webhooks).
A missing or unknown token is 401, a role that may not act is 403, and an object outside a partner's
scope is 404.

**Conventions.** Ids are UUID strings. Times are RFC 3339 with an offset; responses are in UTC (`Z`).
Errors are RFC 9457 `application/problem+json` with `type`, `title`, `status`, `detail`, and for
validation `errors` (`{field: [messages]}`). Lists take `page`/`page_size` (max 100), `updated_since`
and `sort`, and answer an `X-Pagination` header and RFC 8288 `Link` header.

**Concurrency.** Every response that returns one item carries its `ETag` (declared on each such
response). `PATCH` and `DELETE` require `If-Match` (428 when absent, 412 when stale; `*` matches any
version), and so does a `PUT` that replaces something that already exists: an outcome, a speaker's
availability once it has windows or exceptions, a speaker's place on a booking (the booking's ETag).
The `PUT` that first creates it needs none. `If-None-Match` on a GET answers 304.
`PATCH` changes exactly the fields it names: PATCH schemas declare no defaults, so send only what
you mean to change.

**Retries.** Every `POST` accepts `Idempotency-Key` (1–255 characters), kept 48 hours per token and
path: the same key and body replay the first answer (with `Idempotent-Replayed: true`), another body
with the same key is 422, and a retry while the first is still running is 409. Answers that carry a
secret (tokens, feeds, webhooks) are never stored; their replay is 409 naming the created id.
"""

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string", "description": "Short summary of the kind of problem."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong this time, for a human."},
        "errors": {
            "type": "object",
            "description": "Validation errors: each field (dotted path for nested ones) to its messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "conflicts": {
            "type": "array",
            "description": "Scheduling conflicts hit (409 on bookings and speaker slots).",
            "items": {"$ref": "#/components/schemas/SchedulingConflictItem"},
        },
        "allowed": {"type": "array", "items": {"type": "string"},
                    "description": "For an invalid status change: the statuses allowed from here."},
        "created_id": {"type": "string", "description": "For a replayed secret-bearing POST: the id created."},
    },
    "required": ["type", "title", "status", "detail"],
}

CONFLICT_ITEM_SCHEMA = {
    "type": "object",
    "description": "One thing a scheduling write would hit. To a partner, a conflict with another party's "
                   "booking shows only its `kind` (and `speaker_id` for a speaker on the partner's own "
                   "booking): `booking_id` is null and there are no times.",
    "properties": {
        "kind": {"type": "string", "enum": ["speaker_overlap", "trust_overlap", "outside_availability"]},
        "booking_id": {"type": ["string", "null"],
                       "description": "The other booking (overlaps; null to a partner when it is not theirs), "
                                      "or the booking being changed (`outside_availability`)."},
        "speaker_id": {"type": ["string", "null"]},
        "starts_at": {"type": "string", "format": "date-time",
                      "description": "The other booking's time (overlaps), or the requested slot "
                                     "(`outside_availability`). Absent when `booking_id` is withheld."},
        "ends_at": {"type": "string", "format": "date-time"},
    },
    "required": ["kind", "booking_id", "speaker_id"],
    "example": {"kind": "trust_overlap", "booking_id": "1c9f2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                "speaker_id": None, "starts_at": "2026-03-05T09:00:00Z", "ends_at": "2026-03-05T12:00:00Z"},
}

_EXAMPLES = {
    400: {"type": "https://boardroom.example/problems/malformed-request", "title": "Malformed request",
          "status": 400, "detail": "The request body is not valid JSON."},
    401: {"type": "https://boardroom.example/problems/unauthorized", "title": "Authentication required",
          "status": 401, "detail": "The token is unknown or has been revoked."},
    403: {"type": "https://boardroom.example/problems/forbidden", "title": "Not allowed for this token's role",
          "status": 403, "detail": "A viewer token may not do this; it needs one of: coordinator."},
    404: {"type": "https://boardroom.example/problems/not-found", "title": "Not found", "status": 404,
          "detail": "No trust with that id."},
    409: {"type": "https://boardroom.example/problems/conflict", "title": "Conflict with the current state",
          "status": 409, "detail": "A trust with ODS code RX1 already exists."},
    412: {"type": "https://boardroom.example/problems/precondition-failed",
          "title": "The resource has changed (stale If-Match)", "status": 412,
          "detail": "The resource changed since you read it; GET it again for the current ETag."},
    413: {"type": "https://boardroom.example/problems/payload-too-large", "title": "Request Entity Too Large",
          "status": 413, "detail": "The request body is larger than the 1 MiB limit."},
    422: {"type": "https://boardroom.example/problems/validation-error", "title": "The request is not valid",
          "status": 422, "detail": "ods_code: Must be 3 to 5 letters or digits.",
          "errors": {"ods_code": ["Must be 3 to 5 letters or digits."]}},
    415: {"type": "https://boardroom.example/problems/unsupported-media-type", "title": "Unsupported Media Type",
          "status": 415, "detail": "Send the body as application/json."},
    428: {"type": "https://boardroom.example/problems/precondition-required", "title": "If-Match header required",
          "status": 428, "detail": "Send If-Match with the ETag from your last GET (or * for any version)."},
    429: {"type": "https://boardroom.example/problems/too-many-requests", "title": "Too Many Requests",
          "status": 429, "detail": "Too many requests for this token: the limit is 600 per 1 minute over a moving "
                                   "window. Retry after Retry-After seconds."},
    503: {"type": "https://boardroom.example/problems/not-ready", "title": "Service Unavailable", "status": 503,
          "detail": "The database does not answer or has no schema."},
}


def init_spec() -> dict:
    return {
        "info": {"description": INTRO, "contact": {"name": "Boardroom programme team"}},
        "servers": [{"url": "/", "description": "This server"}],
    }


def register_components(spec) -> None:
    _describe_errors_as_problems(spec)
    plugin = OperationConventions()
    plugin.init_spec(spec)
    spec.plugins.append(plugin)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "An API token from `/api/v1/tokens` or the CLI."})
    spec.components.schema("SchedulingConflictItem", CONFLICT_ITEM_SCHEMA)
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    for name, header in RATE_LIMIT_HEADERS.items():
        spec.components.header(name, header)
    for code, description in _STATUS_DESCRIPTIONS.items():
        spec.components.response(f"Problem{code}", {
            "description": description or HTTPStatus(code).phrase,
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": _EXAMPLES[code],
            }},
            **({"headers": {"Retry-After": "RETRY_AFTER", "RateLimit-Policy": "RATELIMIT_POLICY",
                            "RateLimit": "RATELIMIT"}} if code == 429 else {}),
        })
    spec.components.headers_lazy.pop("ETAG", None)  # flask-smorest's own, unused here: ours says what it is for
    spec.components.header("ETAG", ETAG_HEADER)
    spec.components.header("LINK", {
        "description": "RFC 8288 links to the `first`, `prev`, `next` and `last` pages.",
        "schema": {"type": "string"},
    })


def _problem_content(example: dict | None = None) -> dict:
    media = {"schema": {"$ref": "#/components/schemas/Problem"}}
    if example is not None:
        media["example"] = example
    return {"application/problem+json": media}


def _describe_errors_as_problems(spec) -> None:
    """flask-smorest pre-registers a response per HTTP status (and DEFAULT_ERROR) with its own
    ``{code, status, message}`` schema as application/json; ours are problem+json, so say so."""
    for name, component in list(spec.components.responses_lazy.items()):
        status = getattr(HTTPStatus, name, None)
        if name == "DEFAULT_ERROR":
            spec.components.responses_lazy[name] = {
                "description": "Unexpected error (a server error never includes a trace).",
                "content": _problem_content({"type": "https://boardroom.example/problems/internal-error",
                                             "title": "Internal server error", "status": 500,
                                             "detail": "Something went wrong on our side; it has been logged."}),
            }
        elif status is not None and status >= 400:
            spec.components.responses_lazy[name] = {
                "description": _STATUS_DESCRIPTIONS.get(status) or component.get("description") or status.phrase,
                "content": _problem_content(_EXAMPLES.get(status)),
            }
    spec.components.schemas.pop("Error", None)
    # X-Pagination is JSON text: say so with `content` (a bare object `schema` means the
    # comma-separated simple style to OpenAPI tools).
    pagination = spec.components.headers_lazy.get("PAGINATION")
    if pagination is not None and "schema" in pagination:
        spec.components.headers_lazy["PAGINATION"] = {
            "description": "JSON: `total`, `total_pages`, `first_page`, `last_page`, `page`, and "
                           "`previous_page`/`next_page` when there is one.",
            "content": {"application/json": {"schema": pagination["schema"]}},
        }


_ROLE_TEXT = {"public": "Public: no token needed."}

ETAG_HEADER = {
    "description": "This item's current version (a strong ETag). Send it back as `If-Match` to change or "
                   "delete the item (412 if it changed meanwhile), or as `If-None-Match` to re-read it (304).",
    "required": True,
    "schema": {"type": "string", "example": '"3f1c9a0b27d4e8f6a1b2c3d4"'},
}
RATE_LIMIT_HEADERS = {
    "RATELIMIT_POLICY": {
        "description": "The quota this answer counted against (IETF httpapi-ratelimit-headers, draft 9): "
                       "`\"api\";q=600;w=60` is 600 requests in any 60 seconds (`\"feed\"` for a feed).",
        "schema": {"type": "string", "example": '"api";q=600;w=60'},
    },
    "RATELIMIT": {
        "description": "What is left of that quota: `r` requests, the window renewing within `t` seconds.",
        "schema": {"type": "string", "example": '"api";r=599;t=60'},
    },
    "RETRY_AFTER": {
        "description": "Seconds to wait before the next request can succeed.",
        "schema": {"type": "integer", "minimum": 0, "example": 12},
    },
}
# Rate-limited paths (SPEC, Running it): the API and the feeds; not probes, docs, dashboard or metrics.
RATE_LIMITED_PREFIXES = ("/api/v1/", "/feeds/")

# JSON answers of one object that is not a versioned item: no ETag.
NOT_ITEMS = frozenset({"Health", "Ready", "CheckResult", "ProgrammeReport", "ContactExport", "SpeakerExport",
                       "Delivery"})


def _returns_item(response) -> bool:
    if not isinstance(response, dict):
        return False
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    return bool(ref) and ref.rsplit("/", 1)[-1] not in NOT_ITEMS


class OperationConventions(BasePlugin):
    """Fill in what every operation shares: a stable ``operationId`` derived from its summary, the roles
    allowed (from ``@blp.access``) in its description, the 400/413 answers of operations with a body, and
    the ``ETag`` header of every answer that returns one item (``tests/test_openapi.py`` checks that each
    such answer sends it)."""

    def init_spec(self, spec) -> None:
        self.spec = spec
        self.seen: set[str] = set()
        self.operations: list[tuple[str, str, dict]] = []

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict) or method == "parameters":
                continue
            self.operations.append((path, method, operation))
            roles = operation.pop("x-roles", None)
            if roles:
                line = _ROLE_TEXT.get(roles[0]) if roles == ["public"] else "Roles: " + ", ".join(roles) + "."
                description = operation.get("description", "").strip()
                operation["description"] = f"{description}\n\n{line}" if description else line
            if "operationId" not in operation and operation.get("summary"):
                operation["operationId"] = self._unique(operation_id(operation["summary"]),
                                                        (operation.get("tags") or ["api"])[0], method)
            responses = operation.setdefault("responses", {})
            limited = (path or "").startswith(RATE_LIMITED_PREFIXES)
            for code, response in responses.items():
                if str(code) in ("200", "201") and _returns_item(response):
                    response.setdefault("headers", {})["ETag"] = "ETAG"
                if limited and str(code).startswith("2") and isinstance(response, dict):
                    response.setdefault("headers", {}).update(
                        {"RateLimit-Policy": "RATELIMIT_POLICY", "RateLimit": "RATELIMIT"})
            if limited and 429 not in responses and "429" not in responses:
                responses[429] = "Problem429"
            # What answers 304 takes If-None-Match: declared here too, since a view's query arguments and a
            # manual parameter list do not combine in flask-smorest (a list with an ETag, such as the ICS list).
            if 304 in responses or "304" in responses:
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "If-None-Match" for p in parameters if isinstance(p, dict)):
                    parameters.append(dict(IF_NONE_MATCH_PARAM))
            if method == "post":
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters if isinstance(p, dict)):
                    parameters.append(dict(IDEMPOTENCY_PARAM))
                if 409 not in responses and "409" not in responses:
                    responses[409] = "Problem409"
            if "requestBody" in operation:
                for code in (400, 413, 415):
                    if code not in responses and str(code) not in responses:
                        responses[code] = f"Problem{code}"

    def _unique(self, candidate: str, tag: str, method: str) -> str:
        for option in (candidate, f"{candidate}_{tag}", f"{candidate}_{tag}_{method}"):
            if option not in self.seen:
                self.seen.add(option)
                return option
        raise ValueError(f"duplicate operationId {candidate}")


def operation_id(summary: str) -> str:
    """``"Get a speaker's availability"`` -> ``get_speaker_availability``."""
    text = summary.split(":")[0]
    text = re.sub(r"\(.*?\)", "", text).replace("'s", "")
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in {"a", "an", "the"}]
    return "_".join(words)


# --- links --------------------------------------------------------------------------------------------

def add_links(spec) -> None:
    """OpenAPI ``links`` from each 201 that creates an object to the operations on it, once every path is known.

    A created ``Trust`` (``NewFeed``, ``NewToken``...: the ``New`` says a secret is shown once) feeds its
    ``id`` to every operation with a ``{trust_id}`` path parameter; other path parameters the two paths
    share are passed on from the request; a change to the created object itself (``PATCH``/``DELETE
    /trusts/{trust_id}``) gets the 201's ``ETag`` as ``If-Match``;
    and a parameter named after one of the created object's fields (a feed's ``{token}``) gets that
    field, on paths of the same collection. Generated clients and stateful testers (schemathesis) follow
    them from one call to the next."""
    plugin = next(p for p in spec.plugins if isinstance(p, OperationConventions))
    for source_path, method, operation in plugin.operations:
        created = (operation.get("responses") or {}).get("201")
        if method != "post" or not isinstance(created, dict):
            continue
        schema_ref = (created.get("content", {}).get("application/json", {}).get("schema") or {}).get("$ref", "")
        name = schema_ref.rsplit("/", 1)[-1]
        if not name:
            continue
        resource = _snake(name.removeprefix("New"))
        fields = set((spec.components.schemas.get(name) or {}).get("properties", {}))
        links = {}
        for target_path, target_method, target in plugin.operations:
            parameters = _path_parameters(target_path)
            collection = target_path.removeprefix("/api/v1").startswith(f"/{resource}s/")
            values = {}
            for parameter in parameters:
                if parameter == f"{resource}_id" and "id" in fields:
                    values[f"path.{parameter}"] = "$response.body#/id"
                elif parameter in _path_parameters(source_path):
                    values[f"path.{parameter}"] = f"$request.path.{parameter}"
                elif collection and parameter in fields:
                    values[f"path.{parameter}"] = f"$response.body#/{parameter}"
            if not any(v.startswith("$response") for v in values.values()) or "operationId" not in target:
                continue
            if target_path.endswith(f"{{{resource}_id}}") and any(
                    p.get("name") == "If-Match" for p in target.get("parameters", []) if isinstance(p, dict)):
                values["header.If-Match"] = "$response.header.ETag"
            links[target["operationId"]] = {"operationId": target["operationId"], "parameters": values}
        if links:
            created["links"] = dict(sorted(links.items()))


def _path_parameters(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
