"""Every tabular list answers `Accept: text/csv`: the same rows, filters and pagination headers as its JSON,
formula-like text prefixed with `'`, partner lists as scoped as their JSON, and the OpenAPI document says so."""

from __future__ import annotations

import csv
import io

import pytest

FORMULA = '=HYPERLINK("https://evil.example","Click")'
CSV = {"Accept": "text/csv"}

LISTS = ["/api/v1/trusts", "/api/v1/trusts/{trust_id}/contacts", "/api/v1/bookings",
         "/api/v1/trusts/{trust_id}/interactions", "/api/v1/next-steps", "/api/v1/speakers", "/api/v1/audit-events",
         "/api/v1/integrated-care-systems"]


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


@pytest.fixture
def programme(coordinator, partner, seeded_topics):
    """A trust with a contact, an interaction, a delivered booking with an outcome and a next step, a speaker,
    and a partner's own requested booking: each carrying text a spreadsheet would run as a formula."""
    trust = _ok(coordinator.post("/api/v1/trusts", json={"name": FORMULA, "ods_code": "RR8", "ics_code": "QWO",
                                                         "region": "north_east_and_yorkshire"}), 201)
    t = f"/api/v1/trusts/{trust['id']}"
    contact = _ok(coordinator.post(f"{t}/contacts", json={"name": FORMULA, "role": "Chair",
                                                          "email": "chair@example.nhs.uk"}), 201)
    _ok(coordinator.post(f"{t}/interactions", json={"kind": "call", "occurred_at": "2025-03-01T10:00:00Z",
                                                    "summary": FORMULA, "contact_ids": [contact["id"]]}), 201)
    booking = _ok(coordinator.post("/api/v1/bookings", json={
        "trust_id": trust["id"], "starts_at": "2025-03-05T10:00:00Z", "status": "delivered", "title": FORMULA,
        "notes": "internal", "attendee_ids": [contact["id"]]}), 201)
    _ok(coordinator.put(f"/api/v1/bookings/{booking['id']}/outcome",
                        json={"summary": "s", "next_steps": [{"description": FORMULA, "owner": "-Chair"}]}))
    _ok(coordinator.post("/api/v1/speakers", json={"name": FORMULA, "email": "s@example.org",
                                                   "timezone": "Europe/London"}), 201)
    own = _ok(partner.post("/api/v1/bookings", json={"trust_id": trust["id"], "starts_at": "2030-03-05T10:00:00Z",
                                                     "title": "Partner request"}), 201)
    return {"trust_id": trust["id"], "booking_id": booking["id"], "partner_booking_id": own["id"]}


def test_every_tabular_list_answers_csv_with_its_json_rows(coordinator, programme):
    for template in LISTS:
        url = template.format(**programme)
        as_json = coordinator.get(url)
        rows = rows_of(coordinator.get(url, headers=CSV))
        assert len(rows) == len(as_json.json), url
        assert [row["id"] for row in rows if "id" in row] == [item["id"] for item in as_json.json if "id" in item]
        assert coordinator.get(url, headers=CSV).headers["X-Pagination"] == as_json.headers["X-Pagination"], url
        assert "Accept" in coordinator.get(url, headers=CSV).headers.get("Vary", "")
        assert "Accept" in as_json.headers.get("Vary", ""), url


def test_formula_text_is_prefixed_in_every_list(coordinator, programme):
    p = programme
    cells = {
        "/api/v1/trusts": "name", f"/api/v1/trusts/{p['trust_id']}/contacts": "name",
        f"/api/v1/trusts/{p['trust_id']}/interactions": "summary", "/api/v1/speakers": "name",
    }
    for url, column in cells.items():
        assert [row[column] for row in rows_of(coordinator.get(url, headers=CSV))] == ["'" + FORMULA], url
    bookings = rows_of(coordinator.get("/api/v1/bookings?status=delivered", headers=CSV))
    assert [b["title"] for b in bookings] == ["'" + FORMULA] and bookings[0]["notes"] == "internal"
    assert bookings[0]["speakers"] == "[]" and bookings[0]["topics"] == "[]"  # lists as JSON
    [step] = rows_of(coordinator.get("/api/v1/next-steps", headers=CSV))
    assert step["description"] == "'" + FORMULA and step["owner"] == "'-Chair" and step["done"] == "false"
    audit = rows_of(coordinator.get("/api/v1/audit-events?entity_type=trust", headers=CSV))
    assert audit[0]["action"] == "create" and '"name":{"before":null,"after":"=HYPERLINK' in audit[0]["changes"]
    assert audit[0]["changes"].startswith("{")  # JSON objects start with "{": not a formula


def test_csv_takes_the_same_filters_sort_and_pagination(coordinator, programme):
    for n in range(3):
        _ok(coordinator.post("/api/v1/trusts", json={"name": f"Trust {n}", "ods_code": f"RA{n}", "region": "london"}),
            201)
    page = coordinator.get("/api/v1/trusts?region=london&sort=-ods_code&page=2&page_size=2", headers=CSV)
    assert [row["ods_code"] for row in rows_of(page)] == ["RA0"]
    assert 'rel="prev"' in page.headers["Link"] and '"total": 3' in page.headers["X-Pagination"]
    assert coordinator.get("/api/v1/bookings?status=nope", headers=CSV).status_code == 422


def test_partner_lists_stay_scoped_in_csv(partner, other_partner, programme):
    bookings = rows_of(partner.get("/api/v1/bookings", headers=CSV))
    assert [b["id"] for b in bookings] == [programme["partner_booking_id"]]
    assert "notes" not in bookings[0] and "attendee_ids" not in bookings[0]
    assert rows_of(other_partner.get("/api/v1/bookings", headers=CSV)) == []
    speakers = rows_of(partner.get("/api/v1/speakers", headers=CSV))
    assert speakers and not {"email", "phone"} & set(speakers[0])
    trusts = rows_of(partner.get("/api/v1/trusts", headers=CSV))
    assert trusts and "notes" not in trusts[0]
    assert rows_of(partner.get("/api/v1/next-steps", headers=CSV)) == []  # the step is of a coordinator's booking
    for url in (f"/api/v1/trusts/{programme['trust_id']}/contacts",
                f"/api/v1/trusts/{programme['trust_id']}/interactions", "/api/v1/audit-events"):
        assert partner.get(url, headers=CSV).status_code == 403, url


def test_viewers_may_not_read_audit_events_as_csv_either(viewer):
    assert viewer.get("/api/v1/audit-events", headers=CSV).status_code == 403


def test_document_names_csv_on_every_tabular_list(app):
    document = app.test_client().get("/openapi.json").get_json()
    for template in LISTS:
        content = document["paths"][template]["get"]["responses"]["200"]["content"]
        assert {"application/json", "text/csv"} <= set(content), template
