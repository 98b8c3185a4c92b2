"""Idempotency-Key on POST: replays, mismatches, scoping, and secrets that are never stored."""

from __future__ import annotations

import json

from tests.conftest import ApiClient, problem

TRUST = {"name": "Leeds Teaching Hospitals NHS Trust", "ods_code": "RR8", "region": "north_east_and_yorkshire"}


def _total(client, url="/api/v1/trusts") -> int:
    return json.loads(client.get(url).headers["X-Pagination"])["total"]


def test_same_key_same_body_replays_without_acting_again(coordinator):
    key = {"Idempotency-Key": "create-leeds-1"}
    first = coordinator.post("/api/v1/trusts", json=TRUST, headers=key)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    # Same body, other key order: compared as parsed JSON.
    again = coordinator.post("/api/v1/trusts", json=dict(reversed(list(TRUST.items()))), headers=key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert _total(coordinator) == 1


def test_same_key_other_body_is_422(coordinator):
    key = {"Idempotency-Key": "k-2"}
    assert coordinator.post("/api/v1/trusts", json=TRUST, headers=key).status_code == 201
    r = coordinator.post("/api/v1/trusts", json={**TRUST, "name": "Another"}, headers=key)
    assert r.status_code == 422
    assert "Idempotency-Key" in problem(r)["errors"]
    assert _total(coordinator) == 1


def test_validation_failure_is_not_stored_so_a_corrected_retry_runs(coordinator):
    key = {"Idempotency-Key": "k-3"}
    bad = coordinator.post("/api/v1/trusts", json={**TRUST, "region": "atlantis"}, headers=key)
    assert bad.status_code == 422
    malformed = coordinator.request("POST", "/api/v1/trusts", data="{", headers={**key, "Content-Type": "application/json"})
    assert malformed.status_code == 400
    good = coordinator.post("/api/v1/trusts", json=TRUST, headers=key)
    assert good.status_code == 201 and "Idempotent-Replayed" not in good.headers
    assert _total(coordinator) == 1


def test_a_stored_conflict_replays(coordinator):
    assert coordinator.post("/api/v1/trusts", json=TRUST).status_code == 201
    key = {"Idempotency-Key": "dup"}
    first = coordinator.post("/api/v1/trusts", json=TRUST, headers=key)
    assert first.status_code == 409
    again = coordinator.post("/api/v1/trusts", json=TRUST, headers=key)
    assert again.status_code == 409 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json


def test_keys_are_scoped_per_token_and_per_path(coordinator, client, make_token):
    other = ApiClient(client, make_token("coordinator", name="second coordinator"))
    key = {"Idempotency-Key": "shared-key"}
    assert coordinator.post("/api/v1/trusts", json=TRUST, headers=key).status_code == 201
    # Another token with the same key acts afresh (here: a duplicate ODS code, so 409, not a replay).
    r = other.post("/api/v1/trusts", json=TRUST, headers=key)
    assert r.status_code == 409 and "Idempotent-Replayed" not in r.headers
    # Same token, same key, another path: a different request.
    topic = coordinator.post("/api/v1/topics", json={"slug": "digital-inclusion", "name": "Digital inclusion"},
                             headers=key)
    assert topic.status_code == 201 and "Idempotent-Replayed" not in topic.headers
    assert _total(coordinator) == 1


def test_key_length_limits(coordinator):
    r = coordinator.post("/api/v1/trusts", json=TRUST, headers={"Idempotency-Key": "k" * 256})
    assert r.status_code == 422
    assert "Idempotency-Key" in problem(r)["errors"]
    assert _total(coordinator) == 0
    assert coordinator.post("/api/v1/trusts", json=TRUST, headers={"Idempotency-Key": "k" * 255}).status_code == 201


def test_token_creation_replay_is_409_naming_the_id_never_the_secret(coordinator, db):
    from sqlalchemy import select

    from api.idempotency import IdempotencyRecord

    key = {"Idempotency-Key": "token-once"}
    body = {"name": "reporting script", "role": "viewer"}
    first = coordinator.post("/api/v1/tokens", json=body, headers=key)
    assert first.status_code == 201
    secret, token_id = first.json["token"], first.json["id"]
    again = coordinator.post("/api/v1/tokens", json=body, headers=key)
    assert again.status_code == 409
    assert problem(again)["created_id"] == token_id
    assert secret not in again.get_data(as_text=True)
    stored = db().scalars(select(IdempotencyRecord)).all()
    assert stored and all(secret not in (r.body or "") + r.headers for r in stored)
    names = [t["name"] for t in coordinator.get("/api/v1/tokens").json]
    assert names.count("reporting script") == 1


def test_a_server_error_is_not_stored_so_the_retry_runs(coordinator, monkeypatch):
    from api.topics import routes

    real = routes.service.create_topic

    def crash(*_args, **_kwargs):
        raise RuntimeError("boom")

    key = {"Idempotency-Key": "crash-then-retry"}
    body = {"slug": "digital-inclusion", "name": "Digital inclusion"}
    monkeypatch.setattr(routes.service, "create_topic", crash)
    assert coordinator.post("/api/v1/topics", json=body, headers=key).status_code == 500
    monkeypatch.setattr(routes.service, "create_topic", real)
    retry = coordinator.post("/api/v1/topics", json=body, headers=key)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    again = coordinator.post("/api/v1/topics", json=body, headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == retry.json["id"]
