"""Outcomes of delivered sessions and next steps, as clients see them."""

from sqlalchemy import select

from tests.conftest import problem

BODY = {
    "summary": "The board agreed digital means services, not IT.",
    "attendance": 12,
    "themes": ["what-digital-means", "prioritisation"],
    "digital_definitions": ["Services around patients"],
    "next_steps": [{"description": "Digital item on every agenda", "owner": "Chair", "due_on": "2025-04-30"},
                   {"description": "Name a digital NED", "owner": "Chief Executive", "done": True}],
    "confidence_before": 2, "confidence_after": 4, "feedback_score": 9,
}


def url(booking):
    return f"/api/v1/bookings/{booking.id}/outcome"


def test_put_then_get_round_trips_with_etag_and_event(coordinator, seeded_topics, create_booking, db):
    from api.outbox import OutboxEvent

    booking = create_booking()
    assert problem(coordinator.get(url(booking)))["status"] == 404
    r = coordinator.put(url(booking), json=BODY)
    assert r.status_code == 200, r.json
    assert r.json["themes"] == ["prioritisation", "what-digital-means"]
    steps = r.json["next_steps"]
    assert [s["description"] for s in steps] == ["Digital item on every agenda", "Name a digital NED"]
    assert steps[0]["done"] is False and steps[0]["done_at"] is None
    assert steps[1]["done"] is True and steps[1]["done_at"].endswith("Z")
    got = coordinator.get(url(booking))
    assert got.status_code == 200 and got.json == r.json
    assert got.headers["ETag"] == r.headers["ETag"]
    assert coordinator.get(url(booking), headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    events = db().scalars(select(OutboxEvent).where(OutboxEvent.type == "outcome.recorded")).all()
    assert len(events) == 1 and events[0].entity_id == r.json["id"]
    assert coordinator.get(f"/api/v1/audit-events?entity_type=outcome&entity_id={r.json['id']}").json[0]["action"] == "create"


def test_outcome_only_for_delivered_bookings(coordinator, seeded_topics, create_booking):
    booking = create_booking(status="confirmed")
    assert problem(coordinator.put(url(booking), json=BODY))["status"] == 409
    assert problem(coordinator.get(url(booking)))["status"] == 409
    assert coordinator.get("/api/v1/bookings/00000000-0000-0000-0000-000000000000/outcome").status_code == 404


def test_validation(coordinator, seeded_topics, create_booking):
    booking = create_booking()
    bad = {**BODY, "themes": ["astrology"], "attendance": -1, "confidence_before": 6, "feedback_score": 11,
           "next_steps": [{"owner": "x"}]}
    body = problem(coordinator.put(url(booking), json=bad))
    assert {"attendance", "confidence_before", "feedback_score", "next_steps.0.description"} <= set(body["errors"])
    body = problem(coordinator.put(url(booking), json={**BODY, "themes": ["astrology"]}))
    assert body["status"] == 422 and "themes" in body["errors"]
    assert coordinator.get(url(booking)).status_code == 404


def test_next_steps_replaced_keeping_ids(coordinator, seeded_topics, create_booking):
    booking = create_booking()
    first = coordinator.put(url(booking), json=BODY).json
    keep = first["next_steps"][1]
    body = {**BODY, "next_steps": [{"id": keep["id"], "description": "Name a digital NED by June", "done": True},
                                   {"description": "New step"}]}
    r = coordinator.put(url(booking), json=body, headers={"If-Match": coordinator.get(url(booking)).headers["ETag"]})
    assert r.status_code == 200
    steps = r.json["next_steps"]
    assert steps[0]["id"] == keep["id"] and steps[0]["done_at"] == keep["done_at"]
    assert steps[0]["description"] == "Name a digital NED by June"
    assert steps[1]["id"] not in {s["id"] for s in first["next_steps"]}
    stranger = {**BODY, "next_steps": [{"id": first["next_steps"][0]["id"], "description": "gone"}]}
    assert "next_steps.0.id" in problem(coordinator.put(url(booking), json=stranger,
                                                        headers={"If-Match": "*"}))["errors"]


def test_put_over_an_existing_outcome_needs_if_match(coordinator, seeded_topics, create_booking):
    booking = create_booking()
    assert coordinator.put(url(booking), json=BODY, headers={"If-Match": "*"}).status_code == 412
    first = coordinator.put(url(booking), json=BODY)  # the PUT that first records it needs none
    assert first.status_code == 200, first.json
    etag = first.headers["ETag"]
    lost = coordinator.put(url(booking), json={"summary": "y"})
    assert problem(lost)["status"] == 428
    kept = coordinator.get(url(booking)).json
    assert kept == first.json and len(kept["next_steps"]) == 2 and kept["themes"]
    changed = coordinator.put(url(booking), json={**BODY, "attendance": 13}, headers={"If-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    stale = coordinator.put(url(booking), json={**BODY, "attendance": 14}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert coordinator.get(url(booking)).json["attendance"] == 13
    assert coordinator.put(url(booking), json={**BODY, "attendance": 15}, headers={"If-Match": "*"}).status_code == 200


def test_patch_changes_only_what_it_names(coordinator, seeded_topics, create_booking, db):
    from api.outbox import OutboxEvent

    booking = create_booking()
    assert problem(coordinator.patch(url(booking), json={"summary": "x"}))["status"] == 404  # nothing yet
    first = coordinator.put(url(booking), json=BODY).json
    etag = coordinator.get(url(booking)).headers["ETag"]
    assert problem(coordinator.patch(url(booking), json={"summary": "y"}, etag=None))["status"] == 428
    r = coordinator.patch(url(booking), json={"feedback_score": 10}, etag=etag)
    assert r.status_code == 200, r.json
    assert r.json == {**first, "feedback_score": 10, "updated_at": r.json["updated_at"]}
    assert r.headers["ETag"] != etag
    assert problem(coordinator.patch(url(booking), json={"summary": "z"}, etag=etag))["status"] == 412
    # Next steps: with their id they keep it and change only what is sent; without, new; left out, removed.
    keep, drop = first["next_steps"]
    steps = coordinator.patch(url(booking), json={"next_steps": [
        {"id": drop["id"], "done": False}, {"description": "Share the strategy with governors"}]})
    assert steps.status_code == 200, steps.json
    got = steps.json["next_steps"]
    assert [s["id"] for s in got][:1] == [drop["id"]] and keep["id"] not in {s["id"] for s in got}
    assert got[0] == {**drop, "done": False, "done_at": None}
    assert got[1]["description"] == "Share the strategy with governors" and got[1]["done"] is False
    assert {k: v for k, v in steps.json.items() if k not in ("next_steps", "updated_at")} == \
        {k: v for k, v in r.json.items() if k not in ("next_steps", "updated_at")}
    bad = coordinator.patch(url(booking), json={"next_steps": [{"owner": "Chair"}]})
    assert "next_steps.0.description" in problem(bad)["errors"]
    events = db().scalars(select(OutboxEvent).where(OutboxEvent.type == "outcome.recorded")).all()
    assert len(events) == 3  # the PUT and the two PATCHes that changed something


def test_patch_is_for_delivered_bookings_and_coordinators(coordinator, partner, partner_org, seeded_topics,
                                                          create_booking):
    booking = create_booking(partner_id=partner_org.id)
    coordinator.put(url(booking), json=BODY)
    assert problem(partner.patch(url(booking), json={"summary": "x"}))["status"] == 403
    assert problem(coordinator.patch(url(create_booking(status="confirmed")), json={"summary": "x"}))["status"] == 409


def test_partner_sees_only_own_and_only_summary_and_steps(coordinator, partner, other_partner, viewer,
                                                          partner_org, seeded_topics, create_booking):
    mine = create_booking(partner_id=partner_org.id)
    theirs = create_booking()
    coordinator.put(url(mine), json=BODY)
    coordinator.put(url(theirs), json=BODY)
    r = partner.get(url(mine))
    assert r.status_code == 200
    assert {"summary", "next_steps"} <= set(r.json)
    assert not {"attendance", "themes", "digital_definitions", "confidence_before", "confidence_after",
                "feedback_score"} & set(r.json)
    assert r.headers["ETag"] != coordinator.get(url(mine)).headers["ETag"]
    assert partner.get(url(theirs)).status_code == 404
    assert other_partner.get(url(mine)).status_code == 404
    assert partner.put(url(mine), json=BODY).status_code == 403
    assert viewer.get(url(mine)).status_code == 200
    assert viewer.put(url(mine), json=BODY).status_code == 403
    listed = partner.get("/api/v1/next-steps").json
    assert {s["booking_id"] for s in listed} == {mine.id}


def test_next_steps_list_filters_and_patch(coordinator, seeded_topics, create_booking, create_trust):
    trust = create_trust()
    trust_id = trust.id
    a = create_booking(trust=trust)
    b = create_booking()
    coordinator.put(url(a), json=BODY)
    coordinator.put(url(b), json={**BODY, "next_steps": [{"description": "Other trust step", "due_on": "2025-01-01"}]})
    everything = coordinator.get("/api/v1/next-steps")
    assert everything.status_code == 200 and everything.headers["X-Pagination"]
    assert [s["description"] for s in everything.json] == ["Other trust step", "Digital item on every agenda",
                                                           "Name a digital NED"]
    item = everything.json[1]
    assert item["booking_id"] == a.id and item["trust_id"] == trust_id and item["outcome_id"]
    assert [s["description"] for s in coordinator.get(f"/api/v1/next-steps?trust_id={trust_id}&done=false").json] \
        == ["Digital item on every agenda"]
    assert [s["description"] for s in coordinator.get("/api/v1/next-steps?due_before=2025-02-01").json] \
        == ["Other trust step"]
    step_url = f"/api/v1/next-steps/{item['id']}"
    outcome_etag = coordinator.get(url(a)).headers["ETag"]
    assert coordinator.patch(step_url, json={"done": True}, etag=None).status_code == 428
    etag = coordinator.get(step_url).headers["ETag"]
    done = coordinator.patch(step_url, json={"done": True}, etag=etag)
    assert done.status_code == 200 and done.json["done"] is True and done.json["done_at"].endswith("Z")
    assert coordinator.patch(step_url, json={"done": False}, etag=etag).status_code == 412
    assert coordinator.get(url(a)).headers["ETag"] != outcome_etag  # the outcome shows its steps
    assert coordinator.get("/api/v1/next-steps?done=true").json[0]["id"] in {item["id"], everything.json[2]["id"]}
    undone = coordinator.patch(step_url, json={"done": False})
    assert undone.json["done_at"] is None
    assert coordinator.patch(step_url, json={"outcome_id": "x"}).status_code == 422
