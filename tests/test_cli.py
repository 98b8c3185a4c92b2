"""Shell commands: `flask --app wsgi tokens create NAME --role ROLE [--partner SLUG]`."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import ApiClient


def _create(app, *args):
    return app.test_cli_runner().invoke(args=["tokens", "create", *args])


def test_tokens_create_prints_the_token_alone_on_the_last_line_and_it_works(app, client, db):
    from api.accounts.models import ApiToken

    result = _create(app, "reporting script", "--role", "viewer")
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("brt_") and " " not in last
    viewer = ApiClient(client, last)
    assert viewer.get("/api/v1/trusts").status_code == 200
    assert viewer.post("/api/v1/trusts", json={}).status_code == 403
    row = db().scalars(select(ApiToken).where(ApiToken.name == "reporting script")).one()
    assert row.role == "viewer" and last not in (row.token_hash, row.prefix)


def test_partner_token_from_the_shell_acts_for_its_partner(app, client, create_partner):
    create_partner(name="NHS Providers", slug="nhs-providers")
    result = _create(app, "NHSP booking system", "--role", "partner", "--partner", "nhs-providers")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    me = ApiClient(client, token)
    assert me.get("/api/v1/topics").status_code == 200
    assert me.get("/api/v1/tokens").status_code == 403


def test_partner_token_needs_a_known_partner(app):
    missing = _create(app, "x", "--role", "partner")
    assert missing.exit_code != 0 and "partner" in missing.output.lower()
    unknown = _create(app, "x", "--role", "partner", "--partner", "nobody")
    assert unknown.exit_code != 0 and "nobody" in unknown.output
    bad_role = _create(app, "x", "--role", "admin")
    assert bad_role.exit_code != 0


def test_openapi_write_matches_the_served_document(app, client, tmp_path):
    import json

    out = tmp_path / "openapi.json"
    result = app.test_cli_runner().invoke(args=["openapi", "write", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == client.get("/openapi.json").get_json()


def test_purge_expired_removes_only_stale_idempotency_records(app, coordinator, db):
    from datetime import timedelta

    from api.db import utcnow
    from api.idempotency import IdempotencyRecord

    body = {"name": "Purge Trust", "ods_code": "PUR1", "region": "london"}
    for key in ("old", "fresh"):
        r = coordinator.post("/api/v1/trusts", json={**body, "ods_code": f"PU{key[:2].upper()}"},
                             headers={"Idempotency-Key": key})
        assert r.status_code == 201
    old = db().scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == "old")).one()
    old.expires_at = utcnow() - timedelta(seconds=1)
    db().commit()
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0 and "removed 1 " in result.output
    assert db().scalars(select(IdempotencyRecord.key)).all() == ["fresh"]
