"""Trusts and contacts as a client sees them."""

from tests.conftest import problem

TRUST = {"name": "Leeds Teaching Hospitals NHS Trust", "ods_code": "rr8", "region": "north_east_and_yorkshire",
         "trust_type": "acute", "ics": "West Yorkshire ICS", "notes": "Chair keen on UCD."}


def test_create_trust_upper_cases_ods_and_returns_etag_and_location(coordinator):
    r = coordinator.post("/api/v1/trusts", json=TRUST)
    assert r.status_code == 201, r.json
    body = r.json
    assert body["ods_code"] == "RR8"
    assert body["timezone"] == "Europe/London"
    assert body["created_at"].endswith("Z")
    assert r.headers["ETag"]
    assert r.headers["Location"].endswith(f"/api/v1/trusts/{body['id']}")
    got = coordinator.get(r.headers["Location"])
    assert got.status_code == 200 and got.json["name"] == TRUST["name"]
    assert got.headers["ETag"] == r.headers["ETag"]


def test_duplicate_ods_code_is_409_in_any_case(coordinator):
    assert coordinator.post("/api/v1/trusts", json=TRUST).status_code == 201
    r = coordinator.post("/api/v1/trusts", json={**TRUST, "name": "Another", "ods_code": "RR8"})
    assert r.status_code == 409
    assert "RR8" in problem(r)["detail"]


def test_invalid_trust_is_422_per_field_and_changes_nothing(coordinator):
    r = coordinator.post("/api/v1/trusts", json={"name": "", "ods_code": "R-8", "region": "mars",
                                                 "timezone": "Mars/Olympus", "extra": 1})
    body = problem(r)
    assert r.status_code == 422
    assert set(body["errors"]) >= {"name", "ods_code", "region", "timezone", "extra"}
    assert coordinator.get("/api/v1/trusts").headers["X-Pagination"].startswith('{"total": 0')


def test_partner_never_sees_notes_and_may_not_write(partner, coordinator):
    trust_id = coordinator.post("/api/v1/trusts", json=TRUST).json["id"]
    r = partner.get(f"/api/v1/trusts/{trust_id}")
    assert r.status_code == 200 and "notes" not in r.json
    assert all("notes" not in t for t in partner.get("/api/v1/trusts").json)
    assert partner.post("/api/v1/trusts", json={**TRUST, "ods_code": "RX1"}).status_code == 403
    assert partner.get(f"/api/v1/trusts/{trust_id}/contacts").status_code == 403


def test_patch_requires_if_match_and_rejects_stale(coordinator):
    r = coordinator.post("/api/v1/trusts", json=TRUST)
    url, etag = r.headers["Location"], r.headers["ETag"]
    assert problem(coordinator.patch(url, json={"ics": "X"}, etag=None)).get("status") == 428
    ok = coordinator.patch(url, json={"ics": "West Yorkshire HCP"}, etag=etag)
    assert ok.status_code == 200 and ok.json["ics"] == "West Yorkshire HCP"
    assert ok.headers["ETag"] != etag
    stale = coordinator.patch(url, json={"ics": "Y"}, etag=etag)
    assert stale.status_code == 412
    assert coordinator.get(url).json["ics"] == "West Yorkshire HCP"


def test_if_none_match_gives_304(coordinator):
    r = coordinator.post("/api/v1/trusts", json=TRUST)
    again = coordinator.get(r.headers["Location"], headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_delete_archives_and_lists_hide_unless_asked(coordinator):
    r = coordinator.post("/api/v1/trusts", json=TRUST)
    url = r.headers["Location"]
    assert coordinator.delete(url, etag=r.headers["ETag"]).status_code == 204
    assert coordinator.get(url).json["archived_at"] is not None
    assert coordinator.get("/api/v1/trusts").json == []
    assert len(coordinator.get("/api/v1/trusts?include_archived=true").json) == 1
    since = coordinator.get("/api/v1/trusts?updated_since=2000-01-01T00:00:00Z").json
    assert [t["id"] for t in since] == [r.json["id"]]


def test_filters_and_sort(coordinator, create_trust):
    create_trust(name="Alpha Acute", region="london", trust_type="acute", ods_code="AAA1")
    create_trust(name="Beta Mental Health", region="north_west", trust_type="mental_health", ods_code="BBB1")
    create_trust(name="Gamma Ambulance", region="london", trust_type="ambulance", ods_code="CCC1")
    names = lambda r: [t["name"] for t in r.json]  # noqa: E731
    assert names(coordinator.get("/api/v1/trusts?region=london")) == ["Alpha Acute", "Gamma Ambulance"]
    assert names(coordinator.get("/api/v1/trusts?trust_type=mental_health")) == ["Beta Mental Health"]
    assert names(coordinator.get("/api/v1/trusts?q=ccc1")) == ["Gamma Ambulance"]
    assert names(coordinator.get("/api/v1/trusts?q=beta")) == ["Beta Mental Health"]
    assert names(coordinator.get("/api/v1/trusts?sort=-name")) == ["Gamma Ambulance", "Beta Mental Health", "Alpha Acute"]
    assert problem(coordinator.get("/api/v1/trusts?sort=bogus"))["errors"]["sort"]
    assert coordinator.get("/api/v1/trusts?region=mars").status_code == 422


def test_contacts_under_trust(coordinator, viewer):
    trust = coordinator.post("/api/v1/trusts", json=TRUST).json
    r = coordinator.post(f"/api/v1/trusts/{trust['id']}/contacts",
                         json={"name": "Siân Llŷr", "role": "Chair", "email": "sian@example.nhs.uk"})
    assert r.status_code == 201 and r.json["trust_id"] == trust["id"]
    assert viewer.get(f"/api/v1/trusts/{trust['id']}/contacts").json[0]["name"] == "Siân Llŷr"
    assert viewer.post(f"/api/v1/trusts/{trust['id']}/contacts", json={"name": "x"}).status_code == 403
    bad = coordinator.post(f"/api/v1/trusts/{trust['id']}/contacts", json={"name": "x", "email": "not-an-email"})
    assert "email" in problem(bad)["errors"]
    assert coordinator.get("/api/v1/contacts/not-a-uuid").status_code == 404
    assert coordinator.get("/api/v1/trusts/00000000-0000-0000-0000-000000000000/contacts").status_code == 404


def test_a_trust_etag_from_get_stays_valid_for_writes_when_only_engagement_changes(coordinator):
    trust = coordinator.post("/api/v1/trusts", json=TRUST).json
    url = f"/api/v1/trusts/{trust['id']}"
    etag = coordinator.get(url).headers["ETag"]
    r = coordinator.post(f"{url}/interactions", json={"kind": "call", "occurred_at": "2026-01-05T10:00:00Z",
                                                      "summary": "Intro call with the chair"})
    assert r.status_code == 201
    fresh = coordinator.get(url)
    assert fresh.headers["ETag"] != etag  # the engagement summary changed, so a cached copy is stale
    assert coordinator.get(url, headers={"If-None-Match": etag}).status_code == 200
    assert coordinator.patch(url, json={"ics": "X ICS"}, etag=etag).status_code == 200
    assert coordinator.patch(url, json={"ics": "Y ICS"}, etag=etag).status_code == 412
