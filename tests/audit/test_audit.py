"""The audit trail as coordinators read it."""

TRUST = {"name": "Audit Trust", "ods_code": "AUD1", "region": "london"}


def test_audit_events_newest_first_with_actor_and_filters(coordinator, viewer, partner, make_token, client):
    from tests.conftest import ApiClient

    named = ApiClient(client, make_token("coordinator", name="Jo Coordinator"))
    r = named.post("/api/v1/trusts", json=TRUST)
    trust_id = r.json["id"]
    named.patch(f"/api/v1/trusts/{trust_id}", json={"ics": "North Central London"})
    named.delete(f"/api/v1/trusts/{trust_id}")
    events = coordinator.get(f"/api/v1/audit-events?entity_type=trust&entity_id={trust_id}")
    assert events.status_code == 200 and events.headers["X-Pagination"]
    body = events.json
    assert [e["action"] for e in body] == ["archive", "update", "create"]
    assert body[1]["changes"] == {"ics": {"before": None, "after": "North Central London"}}
    assert body[2]["changes"]["name"] == {"before": None, "after": "Audit Trust"}
    assert body[0]["actor"]["name"] == "Jo Coordinator" and body[0]["actor"]["role"] == "coordinator"
    assert body[0]["actor"]["token_id"] and body[0]["occurred_at"].endswith("Z")
    assert [e["action"] for e in coordinator.get(f"/api/v1/audit-events?entity_id={trust_id}&action=update").json] \
        == ["update"]
    assert len(coordinator.get("/api/v1/audit-events?actor=Jo%20Coordinator&entity_type=trust").json) == 3
    assert coordinator.get("/api/v1/audit-events?entity_type=trust&from=2999-01-01T00:00:00Z").json == []
    assert coordinator.get("/api/v1/audit-events?from=2020-01-01").status_code == 422
    assert viewer.get("/api/v1/audit-events").status_code == 403
    assert partner.get("/api/v1/audit-events").status_code == 403


def test_contact_email_is_masked(coordinator, create_trust):
    trust_id = create_trust().id
    c = coordinator.post(f"/api/v1/trusts/{trust_id}/contacts", json={"name": "Ann", "email": "ann@example.org"})
    event = coordinator.get(f"/api/v1/audit-events?entity_id={c.json['id']}").json[0]
    assert event["changes"]["email"]["after"] == "***"
