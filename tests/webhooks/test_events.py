"""What booking, next-step and change-request events say (SPEC, Webhooks): changed fields and their previous
values, both events for a status change with other changes, endpoints hearing only later events, every attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.webhooks.models import EVENT_TYPES
from tests.conftest import problem
from tests.webhooks.test_api import register, verify

ALL_BOOKING = ["booking.created", "booking.updated", "booking.status_changed", "booking.cancelled"]


def _future(days=60, hour=10):
    return (datetime.now(UTC) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def booking(partner, create_trust):
    trust = create_trust()
    r = partner.post("/api/v1/bookings", json={"trust_id": trust.id, "starts_at": _iso(_future()),
                                               "video_url": "https://meet.example.org/old"})
    assert r.status_code == 201, r.json
    return r.json


def _received(receiver, secret):
    return sorted((verify(r, secret) for r in receiver.requests), key=lambda g: (g["occurred_at"], g["type"]))


def test_updated_names_changed_fields_and_previous_values(partner, coordinator, booking, receiver, deliver):
    hook = register(partner, receiver.url, events=ALL_BOOKING)
    r = coordinator.patch(f"/api/v1/bookings/{booking['id']}", json={"video_url": "https://meet.example.org/new",
                                                                      "brief": "Focus on data."})
    assert r.status_code == 200
    deliver()
    [event] = _received(receiver, hook["secret"])
    assert event["type"] == "booking.updated"
    data = event["data"]
    assert data["changed_fields"] == ["brief", "sequence", "video_url"]
    assert data["previous"] == {"brief": None, "sequence": 0, "video_url": "https://meet.example.org/old"}
    assert data["video_url"] == "https://meet.example.org/new" and data["sequence"] == 1


def test_status_change_with_other_fields_sends_both_events(partner, coordinator, booking, receiver, deliver):
    hook = register(partner, receiver.url, events=ALL_BOOKING)
    r = coordinator.patch(f"/api/v1/bookings/{booking['id']}", json={"status": "confirmed",
                                                                      "video_url": "https://meet.example.org/new"})
    assert r.status_code == 200
    deliver()
    got = {e["type"]: e["data"] for e in _received(receiver, hook["secret"])}
    assert set(got) == {"booking.status_changed", "booking.updated"}
    assert (got["booking.status_changed"]["status"], got["booking.status_changed"]["previous_status"]) == (
        "confirmed", "requested")
    assert got["booking.updated"]["changed_fields"] == ["sequence", "video_url"]
    assert got["booking.updated"]["previous"]["video_url"] == "https://meet.example.org/old"

    # A status change alone (with its reason) is one event.
    receiver.requests.clear()
    coordinator.patch(f"/api/v1/bookings/{booking['id']}", json={"status": "cancelled", "cancel_reason": "Clash"})
    deliver()
    assert [e["type"] for e in _received(receiver, hook["secret"])] == ["booking.cancelled"]


def test_partner_hears_no_update_of_what_it_cannot_see(partner, coordinator, booking, make_receiver, deliver):
    mine, programme = make_receiver(), make_receiver()
    my_hook = register(partner, mine.url, events=ALL_BOOKING)
    programme_hook = register(coordinator, programme.url, events=ALL_BOOKING)
    coordinator.patch(f"/api/v1/bookings/{booking['id']}", json={"notes": "Chair is sceptical."})
    deliver()
    assert mine.requests == []
    [event] = _received(programme, programme_hook["secret"])
    assert event["data"]["changed_fields"] == ["notes"] and event["data"]["previous"] == {"notes": None}
    assert my_hook["id"]


def test_time_set_on_a_request_tells_the_partner(partner, coordinator, create_trust, receiver, deliver):
    trust = create_trust()
    start = _future(70)
    r = partner.post("/api/v1/bookings", json={"trust_id": trust.id, "preferred_windows": [
        {"from": _iso(start - timedelta(hours=1)), "to": _iso(start + timedelta(hours=7))}]})
    assert r.status_code == 201, r.json
    hook = register(partner, receiver.url, events=ALL_BOOKING)
    coordinator.patch(f"/api/v1/bookings/{r.json['id']}", json={"starts_at": _iso(start), "status": "provisional"})
    deliver()
    got = {e["type"]: e["data"] for e in _received(receiver, hook["secret"])}
    assert got["booking.status_changed"]["previous_status"] == "requested"
    assert got["booking.updated"]["changed_fields"] == ["ends_at", "sequence", "starts_at"]
    assert got["booking.updated"]["previous"] == {"ends_at": None, "sequence": 0, "starts_at": None}
    assert got["booking.updated"]["starts_at"] == _iso(start)


def test_next_step_updated(partner, coordinator, create_trust, receiver, deliver):
    trust = create_trust()
    r = coordinator.post("/api/v1/bookings", json={"trust_id": trust.id, "starts_at": "2025-03-05T10:00:00Z",
                                                   "status": "delivered"})
    outcome = coordinator.put(f"/api/v1/bookings/{r.json['id']}/outcome", json={
        "summary": "s", "next_steps": [{"description": "Map services", "owner": "CEO"}]}).json
    hook = register(coordinator, receiver.url, events=["next_step.updated"])
    step = outcome["next_steps"][0]
    assert coordinator.patch(f"/api/v1/next-steps/{step['id']}", json={"done": True}).status_code == 200
    assert coordinator.patch(f"/api/v1/next-steps/{step['id']}", json={"done": True}).status_code == 200  # no change
    deliver()
    [event] = _received(receiver, hook["secret"])
    assert event["type"] == "next_step.updated"
    data = event["data"]
    assert (data["id"], data["booking_id"], data["trust_id"]) == (step["id"], r.json["id"], trust.id)
    assert data["done"] is True
    assert data["changed_fields"] == ["done"] and data["previous"] == {"done": False}


def test_a_new_endpoint_hears_only_later_events(partner, coordinator, booking, receiver, deliver):
    coordinator.patch(f"/api/v1/bookings/{booking['id']}", json={"brief": "Before the hook."})
    hook = register(partner, receiver.url, events=ALL_BOOKING)
    coordinator.patch(f"/api/v1/bookings/{booking['id']}", json={"brief": "After the hook."})
    deliver()
    got = _received(receiver, hook["secret"])
    assert [(e["type"], e["data"]["brief"]) for e in got] == [("booking.updated", "After the hook.")]


def test_every_attempt_is_listed(partner, other_partner, coordinator, booking, receiver, deliver):
    hook = register(partner, receiver.url, events=ALL_BOOKING)
    receiver.statuses = [503]
    coordinator.patch(f"/api/v1/bookings/{booking['id']}", json={"brief": "Retry me."})
    now = datetime.now(UTC)
    deliver(now)
    deliver(now + timedelta(seconds=6))
    [delivery] = partner.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json
    url = f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/attempts"
    r = partner.get(url)
    assert r.status_code == 200 and "X-Pagination" in r.headers
    assert [(a["status_code"], a["error"]) for a in r.json] == [(503, "HTTP 503: ok"), (200, None)]
    for attempt in r.json:
        assert set(attempt) == {"id", "attempted_at", "status_code", "duration_ms", "error"}
        assert attempt["duration_ms"] >= 0 and attempt["attempted_at"].endswith("Z")
    assert partner.get(url + "?sort=-attempted_at").json == list(reversed(r.json))
    assert other_partner.get(url).status_code == 404
    missing = f"/api/v1/webhooks/{hook['id']}/deliveries/{hook['id']}/attempts"
    assert problem(partner.get(missing))["status"] == 404


def test_the_document_describes_every_event_with_an_operation_id(client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    hooks = doc["webhooks"]
    assert set(EVENT_TYPES) <= set(hooks)
    ids = set()
    for event_type in EVENT_TYPES:
        op = hooks[event_type]["post"]
        ids.add(op["operationId"])
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][ref]
        assert schema["properties"]["type"]["const"] == event_type
        assert schema["properties"]["data"]["properties"], event_type
    assert len(ids) == len(EVENT_TYPES)
    updated = doc["components"]["schemas"]["WebhookEventBookingUpdated"]["properties"]["data"]
    assert {"changed_fields", "previous"} <= set(updated["required"])
