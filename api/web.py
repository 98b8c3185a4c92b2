"""HTTP conventions shared by every resource: access rules, pagination links, ETags, lists."""

from __future__ import annotations

import hashlib
import io
import json
import re
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

import flask_smorest
import marshmallow as ma
from flask import Response, current_app, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from webargs import missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from api import jsonbody
from api.errors import MalformedBody, PreconditionFailed, PreconditionRequired, ValidationFailed
from api.fields import Schema, Timestamp

PUBLIC = "public"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_STATUS_DESCRIPTIONS = {
    400: "Malformed request: the body is not valid JSON.",
    401: "Missing, unknown or revoked bearer token.",
    403: "The token's role may not do this.",
    404: "Not found, or outside the caller's scope.",
    409: "Conflicts with the current state (duplicate, scheduling overlap, invalid state change, "
         "or an Idempotency-Key whose first request is still running).",
    412: "If-Match does not match the current ETag: fetch the resource again and retry.",
    413: "Body larger than 1 MiB.",
    415: "The body is not JSON: send it with `Content-Type: application/json`.",
    422: "Validation failed; `errors` maps each field to its messages.",
    428: "If-Match is required for this method.",
    429: "Too many requests from this token (or, without a valid token, this address; for a feed, this feed) "
         "over a moving 60-second window. Wait `Retry-After` seconds; `RateLimit-Policy` and `RateLimit` "
         "say the quota and what is left on every answer.",
    503: "Not ready: the database does not answer or is not at the newest migration.",
}


class SchemaReusingParser(FlaskParser):
    """webargs instantiates a schema given as a class on every request (a deep copy of its fields);
    flask-smorest passes classes (pagination always). One instance per class serves every request:
    loading does not change a schema."""

    _instances: dict[type, ma.Schema] = {}

    def _get_schema(self, argmap, req):
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._instances.get(argmap)
            if schema is None:
                schema = self._instances[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)


class StrictQueryParser(SchemaReusingParser):
    """Query strings are checked like bodies: an unknown parameter is a 422, so a typo such as
    ``?regoin=london`` is not silently ignored. ``page``/``page_size`` belong to pagination, which
    reads them with its own parser. Bodies are parsed by ``api.jsonbody`` (bounded depth, clean text)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE,
                                   "querystring": ma.RAISE}

    def load_querystring(self, req, schema):
        args = checked_query(MultiDict([(k, v) for k, v in req.args.items(multi=True)
                                        if k not in _PAGINATION_ARGS or k in schema.fields]))
        fields = {field.data_key or name: field for name, field in schema.load_fields.items()}
        return self._makeproxy(MultiDict([(k, query_value(fields.get(k), v)) for k, v in args.items()]), schema)

    def load_json(self, req, schema):
        data = super().load_json(req, schema)
        required = not schema.partial and any(field.required for field in schema.load_fields.values())
        if data is missing and not required:
            # Nothing to say which fields are missing, yet a change needs a body (a POST with no body
            # schema is not parsed at all, so it is fine without one).
            raise ValidationFailed({"_schema": ["Send a JSON object as the body."]})
        return data

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        body = req.get_data(cache=True)
        if not body:
            return missing
        try:
            return jsonbody.parse(body)
        except jsonbody.TooDeep as exc:
            raise MalformedBody(str(exc)) from None
        except jsonbody.BadText as exc:
            raise ValidationFailed({path: [jsonbody.BAD_TEXT] for path in exc.paths}) from None


def checked_query(args: MultiDict) -> MultiDict:
    """Each parameter once (several values are comma-separated), and text a database can store."""
    repeated = sorted({k for k in args if len(args.getlist(k)) > 1})
    if repeated:
        raise ValidationFailed({k: ["Give this parameter once; separate several values with commas."]
                                for k in repeated})
    unclean = sorted({k for k, v in args.items() if not jsonbody.is_clean(v)})
    if unclean:
        raise ValidationFailed({k: [jsonbody.BAD_TEXT] for k in unclean})
    return args


def query_value(field: ma.fields.Field | None, text: str) -> Any:
    """A query string value as the JSON value the document's type means (``true``, ``42``), else the text."""
    if isinstance(field, ma.fields.Boolean) and text in ("true", "false"):
        return text == "true"
    if isinstance(field, ma.fields.Integer) and re.fullmatch(r"-?[0-9]{1,18}", text):
        return int(text)
    return text


_PAGINATION_ARGS = frozenset({"page", "page_size"})
MAX_PAGE = 1_000_000  # page x page_size must stay a number the database can take as an OFFSET


class PaginationParser(SchemaReusingParser):
    """Reads ``page``/``page_size`` with flask-smorest's schema, bounded by ``MAX_PAGE`` (see bounded_pages)."""

    def _get_schema(self, argmap, req):
        return super()._get_schema(bounded_pages(argmap), req)

    def load_querystring(self, req, schema):
        return self._makeproxy(checked_query(MultiDict(req.args.items(multi=True))), schema)


_BOUNDED_PAGES: dict[type, type] = {}


def bounded_pages(schema_class: type) -> type:
    """flask-smorest's pagination schema with a largest ``page`` (a bigger one is 422, not a database error).

    Used to parse and to document, so the OpenAPI document states the same bound."""
    if schema_class in _BOUNDED_PAGES.values():
        return schema_class
    bounded = _BOUNDED_PAGES.get(schema_class)
    if bounded is None:
        default = schema_class._declared_fields["page"].load_default
        bounded = type(schema_class.__name__, (schema_class,), {
            "page": ma.fields.Integer(load_default=default, validate=ma.validate.Range(min=1, max=MAX_PAGE))})
        _BOUNDED_PAGES[schema_class] = bounded
    return bounded


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with Boardroom's access rules, problem responses and Link headers."""

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 50, "max_page_size": 100}
    ARGUMENTS_PARSER = StrictQueryParser()
    PAGINATION_ARGUMENTS_PARSER = PaginationParser()

    def access(self, *roles: str) -> Callable:
        """Declare who may call a view (deny by default: a view without this is refused).

        ``access(PUBLIC)`` marks an endpoint that needs no token.
        """
        public = roles == (PUBLIC,)

        def decorator(func):
            func._access = roles
            func = self.doc(security=[] if public else [{"bearerAuth": []}], **{"x-roles": list(roles)})(func)
            if not public:
                func = self.errors(401, 403)(func)
            func._access = roles
            return func

        return decorator

    def errors(self, *codes: int) -> Callable:
        """Document problem+json error responses for a view."""

        def decorator(func):
            access = getattr(func, "_access", None)
            for code in codes:
                func = self.alt_response(code, response=f"Problem{code}")(func)
            if access is not None:
                func._access = access
            return func

        return decorator

    @staticmethod
    def _make_pagination_metadata(page, page_size, item_count):
        """flask-smorest's X-Pagination figures, built without a schema instance per request."""
        if item_count == 0:
            return {"total": 0, "total_pages": 0}
        last_page = (item_count - 1) // page_size + 1
        meta = {"total": item_count, "total_pages": last_page, "first_page": 1, "last_page": last_page}
        if page <= last_page:
            meta["page"] = page
            if page > 1:
                meta["previous_page"] = page - 1
            if page < last_page:
                meta["next_page"] = page + 1
        return meta

    def _set_pagination_metadata(self, page_params, result, headers):
        result, headers = super()._set_pagination_metadata(page_params, result, headers)
        link = link_header(page_params.page, page_params.page_size, page_params.item_count)
        if link:
            headers["Link"] = link
        return result, headers

    def _prepare_pagination_doc(self, doc, doc_info, *, spec, **kwargs):
        doc = super()._prepare_pagination_doc(doc, doc_info, spec=spec, **kwargs)
        for parameter in doc.get("parameters", []):
            if isinstance(parameter, dict) and parameter.get("in") == "query" and isinstance(parameter.get("schema"), type):
                if "page" in parameter["schema"]._declared_fields:
                    parameter["schema"] = bounded_pages(parameter["schema"])
        return doc

    def _document_pagination_metadata(self, spec, resp_doc):
        super()._document_pagination_metadata(spec, resp_doc)
        resp_doc["headers"]["Link"] = "LINK"


def no_store(func: Callable) -> Callable:
    """Mark a view whose answer holds a secret or personal data: it is sent with ``Cache-Control: no-store``
    (applied in ``api.serving``), so no browser, proxy or client cache keeps it."""
    func._no_store = True
    return func


def autocommit_reads(func: Callable) -> Callable:
    """Mark a read whose statements are each consistent on their own: on PostgreSQL it runs outside a
    transaction block, saving the BEGIN and ROLLBACK round trips (see ``api.db.autocommit_reads``).
    Not for reads that write best effort inside a SAVEPOINT (a report rebuilding roll-ups)."""
    func._autocommit_reads = True
    return func


def base_url() -> str:
    """The absolute base for URLs the API hands out (feed addresses), without a trailing slash.

    ``PUBLIC_BASE_URL`` (required in production); without it (development, testing)
    ``http://127.0.0.1:$PORT``. Never the request's ``Host`` header, which any client can forge.
    """
    return current_app.config.get("PUBLIC_BASE_URL") or current_app.config["FALLBACK_BASE_URL"]


def link_header(page: int, page_size: int, total: int) -> str:
    """RFC 8288 links to the first, previous, next and last pages, keeping other query args.

    The targets are relative references (resolved against the request's own URL), so the ``Host``
    header a client sent never decides them.
    """
    last = max(1, -(-total // page_size))
    args = request.args.to_dict(flat=True)

    def url(p: int) -> str:
        return request.script_root + request.path + "?" + urlencode({**args, "page": p, "page_size": page_size})

    links = [f'<{url(1)}>; rel="first"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
    return ", ".join(links)


def paginate(session: Session, stmt: Select, pagination_parameters, *, count_stmt: Select | None = None) -> list:
    """Run a list query for one page and record the total for X-Pagination."""
    pp = pagination_parameters
    if count_stmt is None:
        count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    pp.item_count = session.scalar(count_stmt)
    page = session.scalars(stmt.limit(pp.page_size).offset(pp.first_item)).unique().all()
    return list(page)


# --- lists -----------------------------------------------------------------------------------

class ListArgs(Schema):
    """Query arguments every list takes."""

    updated_since = Timestamp(
        metadata={"description": "Only objects changed at or after this time (RFC 3339 with offset). "
                                 "Archived and cancelled objects are included, so partner systems can sync."}
    )
    sort = ma.fields.String(
        validate=ma.validate.Length(max=200),
        metadata={"description": "Comma-separated fields, `-` for descending, e.g. `-updated_at,name`."},
    )


def apply_sort(stmt: Select, sort: str | None, allowed: dict[str, Any], default: Iterable) -> Select:
    """Order a list query by the client's ``sort`` (validated against ``allowed``), then by id."""
    order = []
    if sort:
        for part in sort.split(","):
            part = part.strip()
            desc = part.startswith("-")
            name = part.lstrip("-+")
            if name not in allowed:
                raise ValidationFailed({"sort": [f"Unknown sort field {name!r}; use one of: {', '.join(sorted(allowed))}."]})
            column = allowed[name]
            order.append(column.desc() if desc else column.asc())
    else:
        order.extend(default)
    id_column = allowed.get("id")
    if id_column is not None:
        order.append(id_column.asc())
    return stmt.order_by(*order)


def split_csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


# --- ETags and conditional requests ------------------------------------------------------------

def etag_of(obj: Any, view: str = "") -> str:
    """A strong ETag for one object as one kind of caller sees it (version-based, opaque)."""
    raw = f"{type(obj).__name__}:{obj.id}:{obj.version}:{view}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:24] + '"'


def etag_of_data(data: Any) -> str:
    raw = json.dumps(data, sort_keys=True, default=str)
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:24] + '"'


def _etag_list(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def require_if_match(current: str) -> None:
    """PATCH/DELETE must name the version they change: absent 428, stale 412, ``*`` matches any."""
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired("Send If-Match with the ETag from your last GET (or * for any version).")
    if header.strip() == "*":
        return
    if _stored_part(current) not in {_stored_part(tag) for tag in _etag_list(header)}:
        raise PreconditionFailed("The resource changed since you read it; GET it again for the current ETag.",
                                 headers={"ETag": current})


def with_derived(etag: str, derived: Any) -> str:
    """An ETag that also changes with derived, read-time data (a trust's engagement summary).

    The part after the dot covers the derived data, so a GET's 304 stays exact; If-Match compares
    only the stored version before it, so time passing or a new booking never makes a write stale.
    """
    return etag[:-1] + "." + etag_of_data(derived)[1:9] + '"'


def _stored_part(etag: str) -> str:
    return etag.split(".", 1)[0].rstrip('"') + '"'


def not_modified(etag: str) -> Response | None:
    """A 304 when If-None-Match names the current ETag."""
    header = request.headers.get("If-None-Match")
    if header and (header.strip() == "*" or etag in _etag_list(header)):
        response = Response(status=304)
        response.headers["ETag"] = etag
        return response
    return None


def conditional(etag: str, data: Any, status: int = 200, headers: dict | None = None):
    """Return data with its ETag, or a bare 304 if the client already has it."""
    cached = not_modified(etag) if request.method in ("GET", "HEAD") else None
    if cached is not None:
        return cached
    return data, status, {"ETag": etag, **(headers or {})}


IF_MATCH_PARAM = {
    "in": "header", "name": "If-Match", "required": True,
    "schema": {"type": "string"},
    "description": "The ETag from your last read of this object, or `*` to change any version.",
}
IF_NONE_MATCH_PARAM = {
    "in": "header", "name": "If-None-Match", "required": False,
    "schema": {"type": "string"},
    "description": "An ETag you hold; if it is still current the answer is 304 with no body.",
}
IDEMPOTENCY_PARAM = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Makes a retry safe: the same key and body replay the first response (keys are kept 48 hours).",
}


def write_guarded(blp: Blueprint) -> Callable:
    """Document If-Match and its 412/428 answers on a PATCH/DELETE view."""

    def decorator(func):
        access = getattr(func, "_access", None)
        func = blp.doc(parameters=[IF_MATCH_PARAM])(func)
        func = blp.errors(412, 428)(func)
        if access is not None:
            func._access = access
        return func

    return decorator


def readable(blp: Blueprint) -> Callable:
    """Document If-None-Match and 304 on an item GET view."""

    def decorator(func):
        access = getattr(func, "_access", None)
        func = blp.doc(parameters=[IF_NONE_MATCH_PARAM])(func)
        func = blp.alt_response(304, description="Not modified: your ETag is current.")(func)
        if access is not None:
            func._access = access
        return func

    return decorator


class Redacted:
    """A read-only view of an object without some fields (a partner never sees internal notes)."""

    __slots__ = ("_obj", "_hidden")

    def __init__(self, obj: Any, hidden: frozenset[str]):
        self._obj = obj
        self._hidden = hidden

    def __getattr__(self, name: str) -> Any:
        if name in self._hidden:
            raise AttributeError(name)
        return getattr(self._obj, name)


# --- request bodies -----------------------------------------------------------------------------

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def buffer_chunked_body(environ: dict, limit: int) -> None:
    """Read a body sent without ``Content-Length`` (chunked) up front, so its size is known: over ``limit``
    it is refused whole (413) rather than cut at the limit and parsed; within it, it is served as if it
    had been sent with its length."""
    if environ.get("CONTENT_LENGTH") or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return
    stream = environ["wsgi.input"]
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(b"".join(chunks))
    environ["CONTENT_LENGTH"] = str(size)


def require_json_body() -> None:
    """On the API a body must be JSON (415 otherwise); a request without a body needs no Content-Type."""
    if request.method not in BODY_METHODS or not request.content_length:
        return
    if not is_json_request(request):
        raise UnsupportedMediaType("Send the body as application/json.")
