"""Tokens and partners over the API (coordinators only)."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import ApiClient, problem


def test_token_shown_once_stored_hashed_and_usable(coordinator, client, db):
    from api.accounts.models import ApiToken
    from api.auth import hash_token

    r = coordinator.post("/api/v1/tokens", json={"name": "CI reader", "role": "viewer"})
    assert r.status_code == 201
    secret = r.json["token"]
    assert secret.startswith("brt_") and len(secret) > 40
    assert r.headers["Location"].endswith(f"/api/v1/tokens/{r.json['id']}")
    row = db().get(ApiToken, r.json["id"])
    assert row.token_hash == hash_token(secret)
    values = [str(getattr(row, c.key)) for c in ApiToken.__table__.columns]
    assert all(secret not in v for v in values)
    assert secret.startswith(row.prefix) and len(row.prefix) < 12
    # Never shown again.
    got = coordinator.get(r.headers["Location"])
    assert got.status_code == 200 and "token" not in got.json and secret not in got.get_data(as_text=True)
    assert secret not in coordinator.get("/api/v1/tokens").get_data(as_text=True)
    assert ApiClient(client, secret).get("/api/v1/trusts").status_code == 200


def test_revoke_is_immediate_and_keeps_the_record(coordinator, client):
    r = coordinator.post("/api/v1/tokens", json={"name": "temp", "role": "coordinator"})
    token = ApiClient(client, r.json["token"])
    assert token.get("/api/v1/tokens").status_code == 200
    url = r.headers["Location"]
    assert coordinator.delete(url, etag=None).status_code == 428
    assert coordinator.delete(url, etag=coordinator.get(url).headers["ETag"]).status_code == 204
    assert token.get("/api/v1/tokens").status_code == 401
    record = coordinator.get(url).json
    assert record["revoked_at"].endswith("Z")
    assert r.json["id"] not in [t["id"] for t in coordinator.get("/api/v1/tokens").json]
    assert r.json["id"] in [t["id"] for t in coordinator.get("/api/v1/tokens?include_revoked=true").json]


def test_partner_token_needs_a_partner_and_only_partner_tokens_have_one(coordinator, partner_org):
    partner_id = partner_org.id
    r = coordinator.post("/api/v1/tokens", json={"name": "p", "role": "partner"})
    assert r.status_code == 422 and "partner_id" in problem(r)["errors"]
    r = coordinator.post("/api/v1/tokens", json={"name": "v", "role": "viewer", "partner_id": partner_id})
    assert r.status_code == 422 and "partner_id" in problem(r)["errors"]
    r = coordinator.post("/api/v1/tokens", json={"name": "p", "role": "partner",
                                                 "partner_id": "00000000-0000-4000-8000-000000000000"})
    assert r.status_code == 422 and "partner_id" in problem(r)["errors"]
    r = coordinator.post("/api/v1/tokens", json={"name": "p", "role": "partner", "partner_id": "nope"})
    assert r.status_code == 422
    r = coordinator.post("/api/v1/tokens", json={"name": "p", "role": "admin"})
    assert r.status_code == 422 and "role" in problem(r)["errors"]
    ok = coordinator.post("/api/v1/tokens", json={"name": "p", "role": "partner", "partner_id": partner_id})
    assert ok.status_code == 201 and ok.json["partner_id"] == partner_id


def test_only_coordinators_manage_tokens(viewer, partner):
    for who in (viewer, partner):
        assert who.get("/api/v1/tokens").status_code == 403
        assert who.post("/api/v1/tokens", json={"name": "x", "role": "viewer"}).status_code == 403


def test_partners_crud_and_unique_slug(coordinator, viewer, partner):
    r = coordinator.post("/api/v1/partners", json={"name": "NHS Confederation", "slug": "nhs-confed"})
    assert r.status_code == 201
    assert r.json["slug"] == "nhs-confed" and r.headers["ETag"]
    url = r.headers["Location"]
    dup = coordinator.post("/api/v1/partners", json={"name": "Again", "slug": "nhs-confed"})
    assert dup.status_code == 409 and problem(dup)
    bad = coordinator.post("/api/v1/partners", json={"name": "Bad", "slug": "Not A Slug"})
    assert bad.status_code == 422 and "slug" in problem(bad)["errors"]
    assert viewer.get(url).status_code == 200
    assert viewer.post("/api/v1/partners", json={"name": "V", "slug": "v"}).status_code == 403
    assert partner.get("/api/v1/partners").status_code == 403
    patched = coordinator.patch(url, json={"name": "NHS Confederation (members)"}, etag=r.headers["ETag"])
    assert patched.status_code == 200 and patched.json["name"] == "NHS Confederation (members)"
    assert coordinator.patch(url, json={"name": "stale"}, etag=r.headers["ETag"]).status_code == 412
    assert "nhs-confed" in [p["slug"] for p in viewer.get("/api/v1/partners").json]
