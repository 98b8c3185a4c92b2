"""No input gives a 5xx: times out of range, huge page numbers, deep JSON, NUL and lone surrogates,
bodies that are too big or not JSON. Each answer is a 400, 413, 415 or 422 problem, on every endpoint
of its kind (the endpoints are read from the app's own OpenAPI document)."""

from __future__ import annotations

import http.client
import json
import uuid
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import problem

TRUST = {"name": "Leeds Teaching Hospitals NHS Trust", "ods_code": "RR8", "region": "north_east_and_yorkshire"}
OVERFLOWING_TIMES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1899-12-31T23:59:59Z",
                     "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]
BAD_TEXT = ["\u0000", "a\u0000b", "\ud800", "x\udfffy"]


def _document(app) -> dict:
    with app.test_request_context():
        return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


@pytest.fixture(scope="module")
def document(app):
    return _document(app)


def _operations(document: dict, method: str):
    for path, item in sorted(document["paths"].items()):
        operation = item.get(method)
        if operation is not None and path.startswith("/api/v1/"):
            yield path, operation


def _fill(path: str) -> str:
    """A path with every `{id}` filled by a random (unknown) id."""
    parts = path.split("/")
    return "/".join(str(uuid.uuid4()) if p.startswith("{") else p for p in parts)


def _list_paths(app, parameter: str) -> list[str]:
    document = _document(app)
    return [path for path, operation in _operations(document, "get")
            if any(p.get("name") == parameter for p in operation.get("parameters", []))
            or any(parameter in (p.get("schema") or {}).get("properties", {}) for p in operation.get("parameters", []))]


def _param_names(operation: dict) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if "name" in p}


# --- times ----------------------------------------------------------------------------------------------

def test_every_list_takes_updated_since_and_page(document):
    lists = [path for path, op in _operations(document, "get") if "updated_since" in _param_names(op)]
    assert len(lists) >= 10, lists  # the parametrised tests below cover these
    assert all("page" in _param_names(op) for path, op in _operations(document, "get") if path in lists)


@pytest.mark.parametrize("value", OVERFLOWING_TIMES)
def test_updated_since_out_of_range_is_422_on_every_list(app, coordinator, document, value):
    for path, operation in _operations(document, "get"):
        if "updated_since" not in _param_names(operation):
            continue
        r = coordinator.get(_fill(path), query_string={"updated_since": value})
        assert r.status_code in (404, 422), (path, r.status_code, r.get_data(as_text=True))
        if "{" not in path:
            assert r.status_code == 422, path
            assert "updated_since" in problem(r)["errors"], path


@pytest.mark.parametrize("value", OVERFLOWING_TIMES)
def test_time_filters_out_of_range_are_422(coordinator, create_trust, value):
    trust_id = create_trust().id
    for url, name in [("/api/v1/bookings", "from"), ("/api/v1/bookings", "to"),
                      ("/api/v1/audit-events", "updated_since")]:
        r = coordinator.get(url, query_string={name: value})
        assert r.status_code == 422, (url, name, r.get_data(as_text=True))
        assert name in problem(r)["errors"]
    r = coordinator.get("/api/v1/scheduling/slots", query_string={
        "trust_id": trust_id, "from": value, "to": "2030-01-02T00:00:00Z"})
    assert r.status_code == 422 and "from" in problem(r)["errors"]


@pytest.mark.parametrize("value", OVERFLOWING_TIMES)
def test_body_times_out_of_range_are_422(coordinator, create_trust, value):
    trust_id = create_trust().id
    r = coordinator.post("/api/v1/bookings", json={"trust_id": trust_id, "starts_at": value, "format": "virtual"})
    assert r.status_code == 422 and "starts_at" in problem(r)["errors"], r.get_data(as_text=True)
    r = coordinator.post("/api/v1/bookings", json={"trust_id": trust_id, "starts_at": "2030-01-02T10:00:00Z",
                                                   "ends_at": value, "format": "virtual"})
    assert r.status_code == 422 and "ends_at" in problem(r)["errors"]
    r = coordinator.post(f"/api/v1/trusts/{trust_id}/interactions",
                         json={"kind": "call", "occurred_at": value, "summary": "Spoke to the chair"})
    assert r.status_code == 422 and "occurred_at" in problem(r)["errors"]
    assert coordinator.get("/api/v1/bookings").json == []


def test_times_at_the_edges_of_the_range_are_taken(coordinator, create_trust):
    create_trust()
    for since, count in [("1900-01-01T00:00:00Z", 1), ("1900-01-01T09:00:00+09:00", 1),
                         ("9998-12-31T23:59:59Z", 0), ("9998-12-31T13:00:00-10:00", 0)]:
        r = coordinator.get("/api/v1/trusts", query_string={"updated_since": since})
        assert r.status_code == 200 and len(r.json) == count, (since, r.get_data(as_text=True))
    r = coordinator.get("/api/v1/trusts", query_string={"updated_since": "1900-01-01T00:00:00+14:00"})
    assert r.status_code == 422  # 1899 in UTC


@pytest.mark.parametrize("query", [{"to": "9999-12-31"}, {"from": "9999-12-31"}, {"from": "0001-01-01"},
                                   {"to": "1899-12-31"}])
def test_report_dates_out_of_range_are_422(coordinator, query):
    r = coordinator.get("/api/v1/reports/programme", query_string=query)
    assert r.status_code == 422, r.get_data(as_text=True)
    assert set(query) <= set(problem(r)["errors"])
    csv = coordinator.get("/api/v1/reports/programme", query_string=query, headers={"Accept": "text/csv"})
    assert csv.status_code == 422


def test_report_to_last_accepted_day_answers(coordinator):
    r = coordinator.get("/api/v1/reports/programme", query_string={"from": "1900-01-01", "to": "9998-12-31"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.json["to"] == "9998-12-31"


def test_next_step_due_before_out_of_range_is_422(coordinator):
    r = coordinator.get("/api/v1/next-steps", query_string={"due_before": "9999-12-31"})
    assert r.status_code == 422 and "due_before" in problem(r)["errors"]


# --- pages ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", ["99999999999999999999", "9223372036854775807", "1000001"])
def test_page_too_large_to_compute_is_422_on_every_list(coordinator, document, page):
    lists = [path for path, op in _operations(document, "get") if "page" in _param_names(op)]
    for path in lists:
        r = coordinator.get(_fill(path), query_string={"page": page})
        assert r.status_code in (404, 422), (path, r.status_code, r.get_data(as_text=True))
        if "{" not in path:
            assert "page" in problem(r)["errors"], path


def test_largest_page_is_an_empty_page(coordinator, create_trust):
    create_trust()
    r = coordinator.get("/api/v1/trusts", query_string={"page": "1000000", "page_size": "100"})
    assert r.status_code == 200 and r.json == []


def test_document_states_the_largest_page(document):
    page = [p for p in document["paths"]["/api/v1/trusts"]["get"]["parameters"] if p["name"] == "page"][0]
    assert page["schema"]["maximum"] == 1_000_000


# --- deep JSON ------------------------------------------------------------------------------------------

def _nested(depth: int) -> str:
    return '{"name": ' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("depth", [33, 100, 5000, 100_000])
def test_json_nested_deeper_than_32_is_400(coordinator, depth):
    for headers in ({}, {"Idempotency-Key": f"deep-{depth}"}):
        r = coordinator.request("POST", "/api/v1/trusts", data=_nested(depth),
                                headers={"Content-Type": "application/json", **headers})
        assert r.status_code == 400, (headers, r.status_code, r.get_data(as_text=True)[:300])
        assert "32 levels" in problem(r)["detail"]


def test_json_nested_32_levels_reaches_the_schema(coordinator):
    r = coordinator.request("POST", "/api/v1/trusts", data=_nested(32), headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert "name" in problem(r)["errors"]


# --- NUL and lone surrogates ---------------------------------------------------------------------------

def _raw_json(value) -> str:
    return json.dumps(value)  # ASCII with \\u escapes: "\\ud800" and "\\u0000" reach the server as sent


@pytest.mark.parametrize("text", BAD_TEXT)
def test_bad_text_in_a_body_is_422_naming_the_field(coordinator, text):
    body = {**TRUST, "notes": text}
    r = coordinator.request("POST", "/api/v1/trusts", data=_raw_json(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.get_data(as_text=True)
    assert problem(r)["errors"] == {"notes": ["Text may not contain a NUL character or a lone UTF-16 surrogate."]}
    nested = {"weekly": [], "exceptions": [{"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-02T00:00:00Z",
                                            "available": False, text: 1}]}
    r = coordinator.request("PUT", f"/api/v1/speakers/{uuid.uuid4()}/availability", data=_raw_json(nested),
                            headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and list(problem(r)["errors"])[0].startswith("exceptions.0.")
    assert coordinator.get("/api/v1/trusts").json == []


@pytest.mark.parametrize("text", BAD_TEXT)
def test_bad_text_in_every_write_body_is_422(coordinator, partner, document, text):
    """Every operation with a JSON body: each string property set to the bad text (as a partner where only
    partners may call it)."""
    checked = 0
    for method in ("post", "put", "patch"):
        for path, operation in _operations(document, method):
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content is None:
                continue
            schema = content["schema"]
            if "$ref" in schema:
                schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            strings = [name for name, prop in schema.get("properties", {}).items()
                       if "string" in (prop.get("type") if isinstance(prop.get("type"), list) else [prop.get("type")])
                       and not prop.get("readOnly")]
            if not strings:
                continue
            body = {name: text for name in strings}
            roles = operation.get("description", "").rsplit("Roles:", 1)[-1]
            client = coordinator if "coordinator" in roles else partner
            r = client.request(method.upper(), _fill(path), data=_raw_json(body),
                                    headers={"Content-Type": "application/json", "If-Match": "*"})
            assert r.status_code == 422, (method, path, r.status_code, r.get_data(as_text=True)[:300])
            assert set(strings) <= set(problem(r)["errors"]), (method, path)
            checked += 1
    assert checked >= 15


@pytest.mark.parametrize("name, value", [("q", "\u0000"), ("q", "RR\u00008"), ("sort", "name\u0000"),
                                         ("region", "\u0000")])
def test_nul_in_a_filter_is_422(coordinator, create_trust, name, value):
    create_trust()
    r = coordinator.get("/api/v1/trusts?" + name + "=" + quote(value))
    assert r.status_code == 422, r.get_data(as_text=True)
    assert name in problem(r)["errors"]


def test_nul_in_every_list_filter_is_422(coordinator, document):
    for path, operation in _operations(document, "get"):
        for parameter in operation.get("parameters", []):
            if parameter.get("in") != "query" or parameter.get("schema", {}).get("type") != "string":
                continue
            r = coordinator.get(_fill(path) + "?" + parameter["name"] + "=a%00")
            assert r.status_code in (404, 422), (path, parameter["name"], r.status_code)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(st.characters(exclude_categories=()), min_size=1, max_size=40),
       notes=st.text(st.characters(exclude_categories=()), max_size=40))
def test_any_text_in_a_trust_is_stored_or_refused_never_500(coordinator, name, notes):
    body = {**TRUST, "ods_code": "RR8", "name": name, "notes": notes}
    r = coordinator.request("POST", "/api/v1/trusts", data=_raw_json(body),
                            headers={"Content-Type": "application/json"})
    assert r.status_code in (201, 409, 422), (r.status_code, r.get_data(as_text=True))
    if r.status_code == 201:
        assert r.json["notes"] == (notes or None) or r.json["notes"] == notes
        gone = coordinator.delete(f"/api/v1/trusts/{r.json['id']}")
        assert gone.status_code in (200, 204)
    else:
        problem(r)


# --- body size and type ----------------------------------------------------------------------------------

def test_json_sent_as_text_plain_is_415(coordinator):
    r = coordinator.request("POST", "/api/v1/trusts", data=json.dumps(TRUST), headers={"Content-Type": "text/plain"})
    assert r.status_code == 415, r.get_data(as_text=True)
    assert "application/json" in problem(r)["detail"]
    for method, ctype in [("PATCH", "application/x-www-form-urlencoded"), ("PUT", "text/csv")]:
        r = coordinator.request(method, f"/api/v1/speakers/{uuid.uuid4()}/availability" if method == "PUT"
                                else f"/api/v1/trusts/{uuid.uuid4()}", data="name=x",
                                headers={"Content-Type": ctype, "If-Match": "*"})
        assert r.status_code == 415, (method, r.status_code)
    r = coordinator.request("POST", "/api/v1/trusts", data=json.dumps(TRUST))  # no Content-Type at all
    assert r.status_code == 415
    assert coordinator.get("/api/v1/trusts").json == []


def test_json_media_types_and_empty_bodies_are_taken(coordinator):
    r = coordinator.request("POST", "/api/v1/trusts", data=json.dumps(TRUST),
                            headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201
    r = coordinator.request("POST", "/api/v1/tokens", headers={"Content-Type": "text/plain"})  # no body: the schema speaks
    assert r.status_code == 422 and "name" in problem(r)["errors"]


def test_document_declares_415_on_operations_with_a_body(document):
    for method in ("post", "put", "patch"):
        for path, operation in _operations(document, method):
            if "requestBody" in operation:
                assert "415" in operation["responses"], (method, path)


def _chunked_post(url: str, token: str, payload: bytes, chunk: int = 64 * 1024) -> tuple[int, dict]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.putrequest("POST", "/api/v1/trusts")
        conn.putheader("Authorization", f"Bearer {token}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            for i in range(0, len(payload), chunk):
                piece = payload[i:i + chunk]
                conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_chunked_body_over_one_mib_is_413_not_truncated(live_server):
    token = live_server.token()
    body = json.dumps({**TRUST, "ods_code": "RR9", "notes": "x" * 1000}).encode()
    payload = body + b" " * (1024 * 1024 - len(body)) + b"garbage" * (1024 * 1024 // 7)  # valid JSON, then 1 MiB
    status, answer = _chunked_post(live_server.url, token, payload)
    assert status == 413, answer
    assert answer["status"] == 413 and "1 MiB" in answer["detail"]
    status, answer = _chunked_post(live_server.url, token, json.dumps({**TRUST, "ods_code": "RR7"}).encode(), chunk=7)
    assert status == 201, answer
    import httpx

    listed = httpx.get(live_server.url + "/api/v1/trusts", headers={"Authorization": f"Bearer {token}"}).json()
    assert [t["ods_code"] for t in listed] == ["RR7"]


# --- JSON types, repeated parameters, missing bodies ------------------------------------------------------

@pytest.mark.parametrize("body, field", [
    ({"name": "Dr A", "timezone": "Europe/London", "active": 0}, "active"),
    ({"name": "Dr A", "timezone": "Europe/London", "active": "true"}, "active"),
    ({"name": "Dr A", "timezone": "Europe/London", "active": 1}, "active"),
])
def test_booleans_in_a_body_are_json_booleans(coordinator, body, field):
    r = coordinator.post("/api/v1/speakers", json=body)
    assert r.status_code == 422, r.get_data(as_text=True)
    assert field in problem(r)["errors"]
    assert coordinator.get("/api/v1/speakers").json == []


@pytest.mark.parametrize("value", ["5", True, "five", 2.5, 2.5890419884777833e-42])
def test_numbers_in_a_body_are_json_numbers(coordinator, value):
    r = coordinator.put(f"/api/v1/speakers/{uuid.uuid4()}/availability",
                        json={"weekly": [{"weekday": value, "start_time": "09:00", "end_time": "17:00"}]})
    assert r.status_code == 422, r.get_data(as_text=True)
    assert "weekly.0.weekday" in problem(r)["errors"]


def test_query_booleans_and_integers_are_read_from_text(coordinator, create_trust):
    create_trust()
    assert coordinator.get("/api/v1/trusts?include_archived=true").status_code == 200
    assert coordinator.get("/api/v1/trusts?engaged=false").status_code == 200
    for bad in ("1", "yes", "True"):
        r = coordinator.get(f"/api/v1/trusts?include_archived={bad}")
        assert r.status_code == 422 and "include_archived" in problem(r)["errors"], bad


@pytest.mark.parametrize("query", ["page_size=1&page_size=2", "region=london&region=midlands", "page=1&page=1"])
def test_a_parameter_given_twice_is_422(coordinator, query):
    r = coordinator.get("/api/v1/trusts?" + query)
    assert r.status_code == 422, r.get_data(as_text=True)
    assert query.split("=")[0] in problem(r)["errors"]


def test_a_change_without_a_body_is_422_before_if_match(coordinator, create_trust):
    trust_id = create_trust().id
    for method, url in [("PATCH", f"/api/v1/trusts/{trust_id}"), ("PUT", f"/api/v1/speakers/{uuid.uuid4()}/availability")]:
        r = coordinator.request(method, url, headers={"If-Match": '"stale"'})
        assert r.status_code == 422, (method, r.get_data(as_text=True))
        assert problem(r)["errors"] == {"_schema": ["Send a JSON object as the body."]}


def test_long_query_string_is_a_problem_not_an_html_page(live_server):
    import httpx

    token = live_server.token()
    r = httpx.get(live_server.url + "/api/v1/trusts", params={"q": "x" * 6000},
                  headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and r.headers["Content-Type"].startswith("application/problem+json"), r.text[:200]


# --- links -----------------------------------------------------------------------------------------------

def test_created_objects_link_to_the_operations_on_them(document):
    operation_ids = {op["operationId"] for item in document["paths"].values() for m, op in item.items()
                     if isinstance(op, dict) and "operationId" in op}
    created = document["paths"]["/api/v1/trusts"]["post"]["responses"]["201"]
    assert created["links"]["get_trust"] == {"operationId": "get_trust",
                                             "parameters": {"path.trust_id": "$response.body#/id"}}
    assert created["links"]["update_trust"]["parameters"]["header.If-Match"] == "$response.header.ETag"
    linked = set()
    for item in document["paths"].values():
        for operation in item.values():
            for link in (operation.get("responses", {}).get("201", {}).get("links", {}) if isinstance(operation, dict)
                         else {}).values():
                assert link["operationId"] in operation_ids
                linked.add(link["operationId"])
    # every operation on a created object's {id} is reachable by a link, so stateful testing gets there
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            ids = [p for p in path.split("/") if p.startswith("{") and p.endswith("_id}")]
            if ids and ids[-1] in ("{trust_id}", "{contact_id}", "{speaker_id}", "{booking_id}", "{webhook_id}",
                                   "{feed_id}", "{token_id}", "{topic_id}", "{partner_id}", "{interaction_id}"):
                assert operation["operationId"] in linked, (method, path)


EDGE_TIMES = ["1900-01-01T00:00:00Z", "1900-01-01T00:00:00-12:00", "9998-12-31T23:59:59.999999Z",
              "9998-12-31T10:00:00+14:00"]


def test_every_time_and_date_filter_takes_the_edges_of_the_range(coordinator, document, create_trust):
    """Arithmetic on an accepted time (a day after `to`, a window around `from`) never overflows."""
    trust_id = create_trust().id
    checked = 0
    for path, operation in _operations(document, "get"):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter.get("in") != "query" or schema.get("format") not in ("date-time", "date"):
                continue
            values = EDGE_TIMES if schema["format"] == "date-time" else ["1900-01-01", "9998-12-31"]
            for value in values:
                query = {parameter["name"]: value}
                if path == "/api/v1/scheduling/slots":
                    query = {"trust_id": trust_id, "from": "2030-01-01T00:00:00Z", "to": "2030-01-02T00:00:00Z", **query}
                r = coordinator.get(_fill(path), query_string=query)
                assert r.status_code < 500, (path, query, r.get_data(as_text=True)[:300])
                checked += 1
    assert checked >= 30
