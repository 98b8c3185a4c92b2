"""ETag in the document (issue 12): every answer that returns one item declares `ETag`, and every such
answer sends it — checked by driving each of those operations once and watching what it answered."""

from __future__ import annotations

import re

import pytest
from flask import request, request_finished

METHODS = {"get", "put", "post", "patch", "delete"}


def declared_etag_operations(document) -> set[tuple[str, str, str]]:
    out = set()
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for code, response in op["responses"].items():
                if "ETag" in response.get("headers", {}) and "application/json" in response.get("content", {}):
                    out.add((method.upper(), path, code))
    return out


def single_item_json_answers(document) -> set[tuple[str, str, str]]:
    """2xx JSON answers whose body is one object (not a list)."""
    out = set()
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for code, response in op["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                if code.startswith("2") and "$ref" in schema:
                    out.add((method.upper(), path, code, schema["$ref"].rsplit("/", 1)[-1]))
    return out


def test_every_single_item_answer_declares_etag_unless_it_is_no_item(document):
    declared = declared_etag_operations(document)
    undeclared = {(m, p, c, name) for m, p, c, name in single_item_json_answers(document) if (m, p, c) not in declared}
    # Answers of one object that is not a versioned resource: probes, a dry run, a report, exports, deliveries.
    assert {name for *_, name in undeclared} <= {"Health", "Ready", "CheckResult", "ProgrammeReport",
                                                 "ContactExport", "SpeakerExport", "Delivery"}, undeclared
    header = document["components"]["headers"]["ETAG"]
    assert header["schema"]["type"] == "string" and header["required"] is True
    for method, path, code in [("GET", "/api/v1/bookings/{booking_id}", "200"),
                               ("PATCH", "/api/v1/trusts/{trust_id}", "200"),
                               ("POST", "/api/v1/speakers", "201")]:
        assert (method, path, code) in declared


@pytest.fixture
def answers(app):
    """(method, documented path, status, has ETag) of every request the test makes."""
    seen = []

    def record(sender, response, **_extra):
        rule = request.url_rule.rule if request.url_rule else request.path
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)
        seen.append((request.method, path, str(response.status_code), "ETag" in response.headers))

    request_finished.connect(record, app)
    yield seen
    request_finished.disconnect(record, app)


@pytest.fixture(scope="module")
def document(app):
    with app.test_client() as client:
        return client.get("/openapi.json").get_json()


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def test_every_answer_declared_with_etag_sends_it(document, answers, coordinator, other_partner, seeded_topics):
    c = coordinator
    trust = _ok(c.post("/api/v1/trusts", json={"name": "ETag Trust", "ods_code": "ET1", "region": "london"}), 201)
    t = f"/api/v1/trusts/{trust['id']}"
    _ok(c.get(t)), _ok(c.patch(t, json={"ics": "North Central London"}))
    contact = _ok(c.post(f"{t}/contacts", json={"name": "Ceri Jones", "role": "Chair"}), 201)
    _ok(c.get(f"/api/v1/contacts/{contact['id']}")), _ok(c.patch(f"/api/v1/contacts/{contact['id']}",
                                                                  json={"role": "Vice Chair"}))
    topic = _ok(c.post("/api/v1/topics", json={"slug": "etag-topic", "name": "ETags"}), 201)
    _ok(c.get(f"/api/v1/topics/{topic['id']}")), _ok(c.patch(f"/api/v1/topics/{topic['id']}", json={"name": "E"}))
    speaker = _ok(c.post("/api/v1/speakers", json={"name": "Dr Amara Okafor", "timezone": "Australia/Sydney"}), 201)
    s = f"/api/v1/speakers/{speaker['id']}"
    _ok(c.get(s)), _ok(c.patch(s, json={"bio": "CCIO."}))
    _ok(c.put(f"{s}/availability", json={"weekly": []})), _ok(c.get(f"{s}/availability"))
    partner = _ok(c.post("/api/v1/partners", json={"name": "ETag Partner", "slug": "etag-partner"}), 201)
    _ok(c.get(f"/api/v1/partners/{partner['id']}")), _ok(c.patch(f"/api/v1/partners/{partner['id']}",
                                                                  json={"name": "ETag Partner Ltd"}))
    token = _ok(c.post("/api/v1/tokens", json={"name": "etag", "role": "viewer"}), 201)
    _ok(c.get(f"/api/v1/tokens/{token['id']}"))
    booking = _ok(c.post("/api/v1/bookings", json={"trust_id": trust["id"], "starts_at": "2025-03-05T10:00:00Z",
                                                   "status": "delivered"}), 201)
    b = f"/api/v1/bookings/{booking['id']}"
    _ok(c.get(b)), _ok(c.patch(b, json={"brief": "b"})), _ok(c.put(f"{b}/speakers/{speaker['id']}", json={}))
    outcome = _ok(c.put(f"{b}/outcome", json={"summary": "s", "next_steps": [{"description": "d"}]}))
    _ok(c.get(f"{b}/outcome")), _ok(c.patch(f"{b}/outcome", json={"summary": "t"}))
    step = f"/api/v1/next-steps/{outcome['next_steps'][0]['id']}"
    _ok(c.get(step)), _ok(c.patch(step, json={"done": True}))
    _ok(c.post(f"{b}/survey"), 201), _ok(c.get(f"{b}/survey"))
    feed = _ok(c.post("/api/v1/feeds", json={"scope": "programme"}), 201)
    _ok(c.get(f"/api/v1/feeds/{feed['id']}")), _ok(c.post(f"/api/v1/feeds/{feed['id']}/rotate"))
    hook = _ok(c.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["booking.created"]}), 201)
    w = f"/api/v1/webhooks/{hook['id']}"
    _ok(c.get(w)), _ok(c.patch(w, json={"active": False})), _ok(c.post(f"{w}/rotate-secret"))
    note = _ok(c.post(f"{t}/interactions", json={"kind": "call", "occurred_at": "2025-03-01T10:00:00Z",
                                                 "summary": "Spoke to the chair."}), 201)
    _ok(c.get(f"/api/v1/interactions/{note['id']}")), _ok(c.patch(f"/api/v1/interactions/{note['id']}",
                                                                   json={"summary": "Spoke to the CEO."}))
    course = _ok(c.post("/api/v1/bookings", json={"kind": "masterclass", "starts_at": "2025-04-05T10:00:00Z",
                                                  "status": "confirmed"}), 201)
    place = _ok(c.post(f"/api/v1/bookings/{course['id']}/registrations", json={"contact_id": contact["id"]}), 201)
    _ok(c.get(f"/api/v1/registrations/{place['id']}"))
    _ok(c.patch(f"/api/v1/registrations/{place['id']}", json={"status": "attended"}))
    _ok(c.post(f"/api/v1/contacts/{contact['id']}/erase")), _ok(c.post(f"{s}/erase"))
    _ok(c.get("/api/v1/integrated-care-systems"))  # a list, but one that changes only with a release
    ask = _ok(other_partner.post("/api/v1/bookings", json={"trust_id": trust["id"], "starts_at": "2199-03-05T10:00:00Z"}),
              201)
    _ok(c.patch(f"/api/v1/bookings/{ask['id']}", json={"status": "confirmed"}))
    change = _ok(other_partner.post(f"/api/v1/bookings/{ask['id']}/change-requests", json={"message": "Later?"}), 201)
    _ok(c.get(f"/api/v1/change-requests/{change['id']}")), _ok(c.patch(f"/api/v1/change-requests/{change['id']}",
                                                                        json={"status": "declined"}))

    declared = declared_etag_operations(document)
    hit = {(m, p, code) for m, p, code, _ in answers if (m, p, code) in declared}
    assert hit == declared, f"not exercised: {sorted(declared - hit)}"
    missing = sorted({(m, p, code) for m, p, code, etag in answers if (m, p, code) in declared and not etag})
    assert missing == [], f"declared ETag but sent none: {missing}"
