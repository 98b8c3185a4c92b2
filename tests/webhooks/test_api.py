"""Webhook endpoints as partners and coordinators use them, and what their receivers get."""

from __future__ import annotations

import base64
import json
from datetime import UTC

import pytest
from standardwebhooks import Webhook

from api.db import utcnow
from tests.conftest import problem

HOOK = {"events": ["booking.created", "booking.cancelled"], "description": "CRM sync"}
BOOKING = {"id": "0b9c7f0e-2a53-4c1e-9f7e-1a2b3c4d5e6f", "status": "requested", "title": "Board development",
           "trust_id": "8c1d9a2e-1111-4c1e-9f7e-1a2b3c4d5e6f", "notes": "Chair is sceptical",
           "attendee_ids": ["c1"], "brief": "Focus on outcomes", "starts_at": "2026-12-01T10:00:00Z"}
OUTCOME = {"booking_id": BOOKING["id"], "summary": "Agreed three priorities", "attendance": 11,
           "confidence_before": 2, "confidence_after": 4, "feedback_score": 9, "themes": ["data"],
           "digital_definitions": ["online forms"],
           "next_steps": [{"description": "Map services", "owner": "CEO", "due_on": "2027-01-31", "done": False}]}


def register(client, url, **overrides):
    r = client.post("/api/v1/webhooks", json={**HOOK, "url": url, **overrides})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.json


def verify(request, secret):
    """Verify one received request with the standardwebhooks library; return the parsed payload."""
    return Webhook(secret).verify(request["body"], request["headers"])


def test_register_returns_secret_once_and_reads_never_show_it(partner, partner_org, receiver):
    r = partner.post("/api/v1/webhooks", json={**HOOK, "url": receiver.url})
    assert r.status_code == 201
    body = r.json
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32
    assert body["partner_id"] == partner_org.id and body["active"] is True
    assert r.headers["ETag"] and r.headers["Location"].endswith(f"/api/v1/webhooks/{body['id']}")
    got = partner.get(f"/api/v1/webhooks/{body['id']}")
    assert got.status_code == 200 and "secret" not in got.json and got.json["events"] == HOOK["events"]
    listed = partner.get("/api/v1/webhooks")
    assert [h["id"] for h in listed.json] == [body["id"]]
    assert all("secret" not in h for h in listed.json) and body["secret"] not in listed.get_data(as_text=True)


def test_idempotent_replay_is_409_naming_the_hook_not_the_secret(partner, receiver):
    headers = {"Idempotency-Key": "hook-1"}
    first = partner.post("/api/v1/webhooks", json={**HOOK, "url": receiver.url}, headers=headers)
    assert first.status_code == 201
    again = partner.post("/api/v1/webhooks", json={**HOOK, "url": receiver.url}, headers=headers)
    assert again.status_code == 409
    text = again.get_data(as_text=True)
    assert first.json["id"] in text and first.json["secret"] not in text
    assert len(partner.get("/api/v1/webhooks").json) == 1


@pytest.mark.parametrize("url", [
    "https://10.0.0.1/x",
    "https://[::ffff:169.254.169.254]/",
    "https://192.168.1.20/hooks",
    "https://[fd00::1]/hooks",
    "http://example.com/hooks",
    "ftp://example.com/hooks",
    "https://user:pw@example.com/hooks",
    "not a url",
])
def test_unsafe_targets_are_422_on_url(partner, url):
    r = partner.post("/api/v1/webhooks", json={**HOOK, "url": url})
    assert r.status_code == 422, r.get_data(as_text=True)
    assert problem(r)["errors"]["url"]
    assert partner.get("/api/v1/webhooks").json == []


@pytest.mark.parametrize("url", ["https://2130706433/", "http://127.0.0.1:8080/hooks", "https://[::1]/",
                                 "https://localhost/hooks"])
def test_loopback_is_422_outside_development_and_testing(app, partner, monkeypatch, url):
    monkeypatch.setitem(app.config, "BOARDROOM_ENV", "production")
    r = partner.post("/api/v1/webhooks", json={**HOOK, "url": url})
    assert r.status_code == 422 and problem(r)["errors"]["url"]


def test_patch_to_unsafe_target_is_422_and_changes_nothing(partner, receiver):
    hook = register(partner, receiver.url)
    r = partner.patch(f"/api/v1/webhooks/{hook['id']}", json={"url": "https://169.254.169.254/latest/meta-data"})
    assert r.status_code == 422 and "link-local" in problem(r)["errors"]["url"][0]
    assert partner.get(f"/api/v1/webhooks/{hook['id']}").json["url"] == receiver.url


@pytest.mark.parametrize("events", [[], ["booking.exploded"], ["booking.created", "booking.created"],
                                    "booking.created"])
def test_events_must_be_a_non_empty_list_of_known_types(partner, receiver, events):
    r = partner.post("/api/v1/webhooks", json={"url": receiver.url, "events": events})
    assert r.status_code == 422 and any(k.startswith("events") for k in problem(r)["errors"]), r.json


def test_contact_erased_is_for_coordinator_hooks_only(partner, coordinator, receiver):
    r = partner.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["contact.erased"]})
    assert r.status_code == 422 and "events" in problem(r)["errors"]
    hook = register(coordinator, receiver.url, events=["contact.erased", "booking.created"])
    assert hook["partner_id"] is None


def test_scoping_viewers_and_other_partners(partner, other_partner, viewer, coordinator, receiver):
    hook = register(partner, receiver.url)
    url = f"/api/v1/webhooks/{hook['id']}"
    for r in (other_partner.get(url), other_partner.patch(url, json={"active": False}), other_partner.delete(url),
              other_partner.post(url + "/rotate-secret"), other_partner.post(url + "/test"),
              other_partner.get(url + "/deliveries")):
        assert r.status_code == 404, r.request.method
    assert other_partner.get("/api/v1/webhooks").json == []
    assert viewer.post("/api/v1/webhooks", json={**HOOK, "url": receiver.url}).status_code == 403
    assert viewer.patch(url, json={"active": False}).status_code == 403
    assert viewer.delete(url).status_code == 403
    assert viewer.get(url).status_code == 200 and "secret" not in viewer.get(url).json
    assert [h["id"] for h in coordinator.get("/api/v1/webhooks").json] == [hook["id"]]
    assert partner.get("/api/v1/webhooks/not-a-uuid").status_code == 404


def test_patch_and_delete_need_if_match(partner, receiver):
    hook = register(partner, receiver.url)
    url = f"/api/v1/webhooks/{hook['id']}"
    assert partner.patch(url, json={"description": "x"}, etag=None).status_code == 428
    assert partner.patch(url, json={"description": "x"}, etag='"stale"').status_code == 412
    etag = partner.get(url).headers["ETag"]
    r = partner.patch(url, json={"events": ["booking.updated"], "description": "Updates only"}, etag=etag)
    assert r.status_code == 200 and r.json["events"] == ["booking.updated"] and r.headers["ETag"] != etag
    assert partner.delete(url, etag=None).status_code == 428
    assert partner.delete(url, etag=r.headers["ETag"]).status_code == 204
    assert partner.get(url).status_code == 404


def test_reenabling_clears_the_disabled_reason(partner, receiver, deliver, emit, partner_org):
    hook = register(partner, receiver.url)
    receiver.statuses = [410]
    emit("booking.created", BOOKING, partner_id=partner_org.id)
    deliver(utcnow())
    got = partner.get(f"/api/v1/webhooks/{hook['id']}").json
    assert got["active"] is False and "410" in got["disabled_reason"]
    r = partner.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": True})
    assert r.status_code == 200 and r.json["active"] is True and r.json["disabled_reason"] is None


def test_partner_hears_only_its_own_events_redacted(partner, other_partner, coordinator, partner_org, make_receiver,
                                                    emit, deliver):
    mine, theirs, programme = make_receiver(), make_receiver(), make_receiver()
    events = ["booking.created", "outcome.recorded"]
    my_hook = register(partner, mine.url, events=events)
    their_hook = register(other_partner, theirs.url, events=events)
    programme_hook = register(coordinator, programme.url, events=events + ["contact.erased"])
    booking = emit("booking.created", {**BOOKING, "partner_id": partner_org.id}, partner_id=partner_org.id)
    emit("outcome.recorded", OUTCOME, partner_id=partner_org.id, entity_type="outcome")
    emit("contact.erased", {"id": "c1", "trust_id": BOOKING["trust_id"]}, entity_type="contact")
    emit("booking.cancelled", BOOKING, partner_id=partner_org.id)  # nobody subscribes to this one
    deliver(utcnow())

    assert theirs.requests == []
    # Order between events is not promised to receivers; sort by type for comparison.
    got = sorted((verify(r, my_hook["secret"]) for r in mine.requests), key=lambda g: g["type"])
    assert [g["type"] for g in got] == ["booking.created", "outcome.recorded"]
    assert got[0]["id"] == booking.id and got[0]["api_version"] == "2026-11-01"
    assert got[0]["occurred_at"].endswith("Z")
    assert "notes" not in got[0]["data"] and "attendee_ids" not in got[0]["data"]
    assert got[0]["data"]["brief"] == BOOKING["brief"] and got[0]["data"]["id"] == BOOKING["id"]
    assert got[1]["data"] == {k: OUTCOME[k] for k in ("booking_id", "summary", "next_steps")}

    full = sorted((verify(r, programme_hook["secret"]) for r in programme.requests), key=lambda g: g["type"])
    assert [g["type"] for g in full] == ["booking.created", "contact.erased", "outcome.recorded"]
    assert full[0]["data"]["notes"] == BOOKING["notes"] and full[0]["data"]["attendee_ids"] == ["c1"]
    assert full[2]["data"] == OUTCOME
    assert their_hook["id"] not in json.dumps(full)


def test_rotated_secret_signs_alongside_the_old_one(partner, partner_org, receiver, emit, deliver):
    hook = register(partner, receiver.url)
    r = partner.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret")
    assert r.status_code == 200
    new_secret = r.json["secret"]
    assert new_secret.startswith("whsec_") and new_secret != hook["secret"]
    assert r.json["previous_secret_expires_at"].endswith("Z")
    assert "secret" not in partner.get(f"/api/v1/webhooks/{hook['id']}").json
    emit("booking.created", BOOKING, partner_id=partner_org.id)
    deliver()
    [request] = receiver.requests
    assert len(request["headers"]["webhook-signature"].split()) == 2
    assert verify(request, hook["secret"]) == verify(request, new_secret)


def test_test_event_goes_to_that_hook_only_and_shows_in_deliveries(partner, partner_org, make_receiver, deliver):
    target, other = make_receiver(), make_receiver()
    hook = register(partner, target.url)
    register(partner, other.url)
    r = partner.post(f"/api/v1/webhooks/{hook['id']}/test")
    assert r.status_code == 202 and r.json["status"] == "pending" and r.json["event_type"] == "ping"
    deliver()
    assert other.requests == []
    [request] = target.requests
    payload = verify(request, hook["secret"])
    assert payload["type"] == "ping" and payload["data"]["webhook_id"] == hook["id"]
    assert request["headers"]["webhook-id"] == r.json["id"]
    listed = partner.get(f"/api/v1/webhooks/{hook['id']}/deliveries")
    assert listed.status_code == 200 and "X-Pagination" in listed.headers
    [delivery] = listed.json
    assert delivery["id"] == r.json["id"] and delivery["status"] == "succeeded"
    assert delivery["attempt_count"] == 1 and delivery["last_status_code"] == 200
    assert delivery["payload"] == payload
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 200 and attempt["error"] is None and attempt["attempted_at"].endswith("Z")


def test_retry_requeues_a_failed_delivery_now(partner, partner_org, receiver, deliver, db):
    from api.webhooks.models import WebhookDelivery

    hook = register(partner, receiver.url)
    delivery_id = partner.post(f"/api/v1/webhooks/{hook['id']}/test").json["id"]
    receiver.statuses = [500]
    deliver(utcnow())
    row = db().get(WebhookDelivery, delivery_id)
    row.status, row.next_attempt_at = "failed", None  # as if it had given up
    db().commit()
    url = f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery_id}/retry"
    r = partner.post(url)
    assert r.status_code == 202 and r.json["status"] == "pending" and r.json["next_attempt_at"]
    deliver()
    assert receiver.ids() == [delivery_id, delivery_id]
    [delivery] = partner.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
    assert partner.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{hook['id']}/retry").status_code == 404


def test_openapi_documents_every_event_with_signature_headers(client):
    doc = client.get("/openapi.json").get_json()
    hooks = doc["webhooks"]
    assert {"booking.created", "booking.updated", "booking.status_changed", "booking.cancelled",
            "outcome.recorded"} <= set(hooks)
    op = hooks["booking.created"]["post"]
    assert {p["name"] for p in op["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = doc["components"]["schemas"][ref]
    assert set(schema["required"]) == {"id", "type", "api_version", "occurred_at", "data"}


def test_coordinator_cannot_add_contact_erased_to_a_partner_hook(partner, coordinator, receiver):
    hook = register(partner, receiver.url)
    r = coordinator.patch(f"/api/v1/webhooks/{hook['id']}", json={"events": ["contact.erased"]})
    assert r.status_code == 422 and "events" in problem(r)["errors"]


def test_booking_created_through_the_api_reaches_the_partner_hook(partner, other_partner, partner_org, coordinator,
                                                                 create_trust, make_receiver, deliver):
    """End to end: a partner's POST /api/v1/bookings commits the booking and its event; the worker delivers."""
    from datetime import datetime, timedelta

    mine, theirs, programme = make_receiver(), make_receiver(), make_receiver()
    my_hook = register(partner, mine.url, events=["booking.created", "booking.cancelled"])
    register(other_partner, theirs.url, events=["booking.created"])
    programme_hook = register(coordinator, programme.url, events=["booking.created"])
    trust = create_trust()
    starts = (datetime.now(UTC) + timedelta(days=60)).replace(hour=10, minute=0, second=0, microsecond=0)
    r = partner.post("/api/v1/bookings", json={"trust_id": trust.id, "starts_at": starts.isoformat(),
                                               "external_ref": "NHSP-42"})
    assert r.status_code == 201, r.get_data(as_text=True)
    booking = r.json
    coordinator.patch(f"/api/v1/bookings/{booking['id']}", json={"notes": "Internal only"})
    cancelled = partner.patch(f"/api/v1/bookings/{booking['id']}", json={"status": "cancelled",
                                                                         "cancel_reason": "Clash"})
    assert cancelled.status_code == 200
    deliver()

    assert theirs.requests == []
    got = sorted((verify(r, my_hook["secret"]) for r in mine.requests), key=lambda g: g["occurred_at"])
    assert [g["type"] for g in got] == ["booking.created", "booking.cancelled"]
    assert got[0]["data"]["id"] == booking["id"] and got[0]["data"]["external_ref"] == "NHSP-42"
    assert got[1]["data"]["status"] == "cancelled"
    assert all("notes" not in g["data"] and "attendee_ids" not in g["data"] for g in got)
    [full] = [verify(r, programme_hook["secret"]) for r in programme.requests]
    assert full["type"] == "booking.created" and full["data"]["id"] == booking["id"] and "notes" in full["data"]


def test_rotate_secret_replay_is_409_and_rotates_once(partner, receiver, db):
    from api.webhooks.models import WebhookEndpoint

    hook = register(partner, receiver.url)
    url = f"/api/v1/webhooks/{hook['id']}/rotate-secret"
    first = partner.post(url, headers={"Idempotency-Key": "rotate-1"})
    again = partner.post(url, headers={"Idempotency-Key": "rotate-1"})
    assert first.status_code == 200 and again.status_code == 409
    assert hook["id"] in again.get_data(as_text=True) and first.json["secret"] not in again.get_data(as_text=True)
    stored = db().get(WebhookEndpoint, hook["id"], populate_existing=True)
    assert (stored.secret, stored.previous_secret) == (first.json["secret"], hook["secret"])
