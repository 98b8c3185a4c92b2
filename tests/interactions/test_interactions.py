"""The CRM log of interactions, and the trust engagement summary."""

from datetime import datetime, timedelta, timezone

from tests.conftest import problem


def test_crud_references_and_roles(coordinator, viewer, partner, create_trust, create_contact, create_booking):
    trust, other = create_trust(), create_trust()
    trust_id, other_id = trust.id, other.id
    contact = create_contact(trust=trust, name="Ann Chair")
    contact_id = contact.id
    stranger_id = create_contact(trust=other).id
    booking = create_booking(trust=trust)
    foreign_booking = create_booking(trust=other)
    base = f"/api/v1/trusts/{trust_id}/interactions"
    body = {"kind": "interview", "occurred_at": "2025-02-01T10:00:00+01:00", "summary": "Chair interview",
            "contact_ids": [contact_id], "booking_id": booking.id}
    r = coordinator.post(base, json=body)
    assert r.status_code == 201, r.json
    assert r.json["occurred_at"] == "2025-02-01T09:00:00Z" and r.json["contact_ids"] == [contact_id]
    assert r.json["trust_id"] == trust_id
    errors = problem(coordinator.post(base, json={**body, "contact_ids": [stranger_id],
                                                   "booking_id": foreign_booking.id}))["errors"]
    assert set(errors) == {"contact_ids", "booking_id"}
    assert problem(coordinator.post(base, json={**body, "kind": "telepathy"}))["status"] == 422
    assert problem(coordinator.post(base, json={**body, "occurred_at": "2025-02-01T10:00:00"}))["status"] == 422
    assert coordinator.post(f"/api/v1/trusts/{other_id}/interactions", json={**body}).status_code == 422
    assert viewer.get(base).json[0]["id"] == r.json["id"]
    assert viewer.post(base, json=body).status_code == 403
    assert partner.get(base).status_code == 403
    item = r.headers["Location"]
    assert partner.get(item).status_code == 403
    assert coordinator.patch(item, json={"summary": "x"}, etag=None).status_code == 428
    ok = coordinator.patch(item, json={"summary": "Chair interview, follow-up", "contact_ids": []},
                           etag=r.headers["ETag"])
    assert ok.status_code == 200 and ok.json["contact_ids"] == [] and ok.json["booking_id"] == booking.id
    assert coordinator.patch(item, json={"summary": "y"}, etag=r.headers["ETag"]).status_code == 412
    assert coordinator.delete(item, etag=ok.headers["ETag"]).status_code == 204
    assert coordinator.get(item).status_code == 404
    actions = [e["action"] for e in coordinator.get(f"/api/v1/audit-events?entity_id={r.json['id']}").json]
    assert actions == ["delete", "update", "create"]


def test_list_filters_and_sort(coordinator, create_trust):
    trust_id = create_trust().id
    base = f"/api/v1/trusts/{trust_id}/interactions"
    for day, kind in ((1, "call"), (3, "email"), (2, "call")):
        coordinator.post(base, json={"kind": kind, "occurred_at": f"2025-02-0{day}T10:00:00Z", "summary": f"d{day}"})
    assert [i["summary"] for i in coordinator.get(base).json] == ["d3", "d2", "d1"]
    assert [i["summary"] for i in coordinator.get(base + "?kind=call&sort=occurred_at").json] == ["d1", "d2"]
    assert [i["summary"] for i in coordinator.get(base + "?from=2025-02-02T00:00:00Z").json] == ["d3", "d2"]


def test_trust_engagement_summary(coordinator, viewer, partner, create_trust, create_booking):
    trust = create_trust()
    trust_id = trust.id
    future = datetime.now(timezone.utc) + timedelta(days=30)
    delivered = create_booking(trust=trust)
    create_booking(trust=trust, status="confirmed", starts_at=future)
    create_booking(trust=trust, status="cancelled", starts_at=future + timedelta(days=1))
    item = f"/api/v1/trusts/{trust_id}"
    before = coordinator.get(item)
    assert before.json["engagement"] == {"sessions_delivered": 1, "sessions_upcoming": 1,
                                         "last_interaction_at": None, "open_next_steps": 0,
                                         "classes_attended": 0}
    coordinator.post(f"{item}/interactions", json={"kind": "call", "occurred_at": "2025-05-01T09:30:00Z",
                                                   "summary": "Call"})
    coordinator.put(f"/api/v1/bookings/{delivered.id}/outcome",
                    json={"next_steps": [{"description": "a"}, {"description": "b", "done": True}]})
    after = viewer.get(item)
    assert after.json["engagement"] == {"sessions_delivered": 1, "sessions_upcoming": 1,
                                        "last_interaction_at": "2025-05-01T09:30:00Z", "open_next_steps": 1,
                                        "classes_attended": 0}
    assert coordinator.get(item, headers={"If-None-Match": before.headers["ETag"]}).status_code == 200
    # Writes are conditional on the trust's own version, not on the derived summary.
    assert coordinator.patch(item, json={"ics": "X"}, etag=before.headers["ETag"]).status_code == 200
    assert coordinator.patch(item, json={"ics": "Y"}, etag=after.headers["ETag"]).status_code == 412
    assert "engagement" not in partner.get(item).json
    assert all("engagement" not in t for t in coordinator.get("/api/v1/trusts").json)
