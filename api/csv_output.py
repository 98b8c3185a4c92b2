"""CSV for tabular answers: content negotiation, rendering dumped rows, and the OpenAPI note."""

from __future__ import annotations

import csv
import functools
import io
import json
from typing import Any, Callable, Iterable

from flask import Response, request
from flask_smorest.utils import unpack_tuple_response
from werkzeug.datastructures import Headers

CSV_MEDIA_TYPE = "text/csv"


def wants_csv() -> bool:
    """True when the client prefers ``text/csv`` over JSON (``Accept: text/csv``)."""
    best = request.accept_mimetypes.best_match(["application/json", CSV_MEDIA_TYPE])
    return best == CSV_MEDIA_TYPE and request.accept_mimetypes[CSV_MEDIA_TYPE] > request.accept_mimetypes["application/json"]


# A text cell starting with one of these is read as a formula by spreadsheets (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str | int | float:
    """One CSV cell: empty for null, true/false for booleans, JSON for lists and objects, numbers as numbers.

    Text that a spreadsheet would run as a formula (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``) gets a
    leading ``'``, so it shows as the text it is; a number (``-1.5``) is not text and stays as it is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render(rows: Iterable[dict], columns: list[str] | None = None) -> str:
    """Rows (dumped dicts) as CSV text with a header; columns default to the keys in order of appearance."""
    rows = list(rows)
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
    return out.getvalue()


def csv_response(rows: Iterable[dict], columns: list[str] | None = None, filename: str | None = None) -> Response:
    response = Response(render(rows, columns), mimetype=CSV_MEDIA_TYPE)
    response.headers["Content-Type"] = "text/csv; charset=utf-8; header=present"
    response.headers["Vary"] = "Accept"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def dump_csv(schema, objects: Iterable[Any], filename: str | None = None) -> Response:
    """Dump objects with a marshmallow schema and answer them as CSV (columns in the schema's order)."""
    rows = schema.dump(list(objects), many=True)
    return csv_response(rows, schema_columns(schema, rows), filename)


def schema_columns(schema, rows: list[dict]) -> list[str]:
    """The schema's output fields in its order, those the rows show (all of them when there are no rows): a
    field hidden from the caller (a partner's view leaves ``notes`` out) is no column either."""
    present = {key for row in rows for key in row}
    names = [field.data_key or name for name, field in schema.dump_fields.items()]
    return [name for name in names if name in present or not rows]


def documents_csv(blp, description: str = "The same rows as CSV when asked with `Accept: text/csv`: a header "
                                             "row, null as an empty cell, lists as JSON.") -> Callable:
    """Document that a view's 200 answer is also available as ``text/csv``."""

    def decorator(func):
        access = getattr(func, "_access", None)
        func = blp.doc(responses={200: {"content": {CSV_MEDIA_TYPE: {
            "schema": {"type": "string", "description": description}}}}})(func)
        if access is not None:
            func._access = access
        return func

    return decorator


LIST_DESCRIPTION = ("The same page as CSV when asked with `Accept: text/csv` (same filters, sort and pagination "
                    "headers): a header row, one row per item, null as an empty cell, lists and objects as JSON, "
                    "text a spreadsheet would run as a formula prefixed with `'`.")


def answers_csv(blp, schema, filename: str, description: str = LIST_DESCRIPTION) -> Callable:
    """A list view that also answers ``Accept: text/csv``: the one way every tabular list does it.

    Place it between ``@blp.response`` and ``@blp.paginate()``. The view returns what it returns for JSON
    (objects, dicts, or a ``Response`` holding a JSON array, as a list joined from stored documents does);
    with CSV asked for, those rows are written with ``schema``'s columns, keeping the view's status and its
    pagination headers (``X-Pagination``, ``Link``). Scoping stays the view's: the CSV holds exactly the rows,
    and the fields, the JSON would. Also documents ``text/csv`` as an alternative content of the 200 answer.
    """

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            result, status, headers = unpack_tuple_response(func(*args, **kwargs))
            if isinstance(result, Response) and result.status_code == 304:
                return result, status, headers
            if not wants_csv():
                headers = Headers(headers or {})
                headers.add("Vary", "Accept")
                return result, status, headers
            if isinstance(result, Response):
                rows = json.loads(result.get_data())
                return csv_response(rows, schema_columns(schema, rows), filename), status, headers
            return dump_csv(schema, result, filename), status, headers

        return documents_csv(blp, description)(wrapper)

    return decorator
