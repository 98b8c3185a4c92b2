"""The partner integration guide (docs/partners.md), run end to end with a client generated from the committed
OpenAPI document and a real webhook receiver: request → proposal → confirmation → change request → delivery →
outcome, checking the webhook events each step sends (SPEC, Bookings and Webhooks; issue 16).

The generated client (openapi-python-client) talks to the app in-process through httpx's WSGI transport, inside
the test's rolled-back transaction; the worker pass (``api.webhooks.worker.drain``) then POSTs the signed events to
an HTTP server on 127.0.0.1, whose requests are verified with the Standard Webhooks library.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from tests.conftest import ROOT
from tests.generated_client import generated_python_client
from tests.webhooks.conftest import receiver  # noqa: F401 - the webhook tests' local receiver, as a fixture

PACKAGE = "boardroom_partner_client"
DOCUMENT = ROOT / "openapi" / "openapi.json"
PARTNER_EVENTS = ["booking.created", "booking.updated", "booking.status_changed", "booking.cancelled",
                  "booking.change_requested", "change_request.resolved", "outcome.recorded", "next_step.updated"]


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    with generated_python_client(DOCUMENT, tmp_path_factory.mktemp("partner_client"), PACKAGE) as (package, _):
        yield package


class Api:
    """The generated client for one token: ``api.call("bookings", "create_booking", body=...)``."""

    def __init__(self, app, token: str):
        self.client = importlib.import_module(f"{PACKAGE}.client").AuthenticatedClient(
            base_url="http://boardroom.test", token=token, raise_on_unexpected_status=True)
        self.client.set_httpx_client(httpx.Client(
            base_url="http://boardroom.test", transport=httpx.WSGITransport(app=app),
            headers={"Authorization": f"Bearer {token}"}))
        self.models = importlib.import_module(f"{PACKAGE}.models")

    def call(self, tag: str, operation: str, status: int = 200, **kwargs):
        module = importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")
        response = module.sync_detailed(client=self.client, **kwargs)
        assert response.status_code == status, (operation, response.content)
        return response

    def body(self, model: str, data: dict):
        return getattr(self.models, model).from_dict(data)


def _monday(weeks: int, hour: int) -> datetime:
    day = (datetime.now(UTC) + timedelta(weeks=weeks)).date()
    day += timedelta(days=(7 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_partner_flow_with_a_generated_client_and_a_real_receiver(package, app, db, make_token, partner_org,
                                                                  create_trust, create_speaker, seeded_topics,
                                                                  receiver, monkeypatch):
    from api.webhooks import worker

    trust = create_trust(name="Leeds Teaching Hospitals NHS Trust")
    speaker = create_speaker(name="Dr Amara Okafor")
    partner = Api(app, make_token("partner", partner_org.id, name="NHS Providers booking system"))
    coordinator = Api(app, make_token("coordinator", name="programme team"))
    coordinator.call("speakers", "update_speaker", speaker_id=speaker.id,
                     body=coordinator.body("SpeakerPatch", {"topics": ["cyber-security"]}), if_match="*")

    def events() -> list[tuple[str, dict]]:
        """Run a worker pass; the events the receiver got since the last call, verified, in occurrence order."""
        worker.drain(db(), allow_loopback=True)
        got = [Webhook(hook.secret).verify(r["body"], r["headers"]) for r in receiver.requests]
        receiver.requests.clear()
        return [(e["type"], e["data"]) for e in sorted(got, key=lambda e: e["occurred_at"])]

    # 0. The partner registers its webhook (it hears only what happens from now on).
    hook = partner.call("webhooks", "register_webhook", 201, body=partner.body(
        "Webhook", {"url": receiver.url, "events": PARTNER_EVENTS})).parsed

    # 1. Request: times the trust and a speaker on the topic are free, then a request with preferred windows.
    week = _monday(8, 0)
    slots = partner.call("scheduling", "find_times_when_speakers_and_trust_are_free", trust_id=trust.id,
                         topic="cyber-security", from_=week, to=week + timedelta(days=5), limit=5).parsed
    assert slots and all(s.local_times.to_dict() == {} for s in slots)
    windows = [{"from": s.starts_at.isoformat(), "to": (s.starts_at + timedelta(hours=8)).isoformat()}
               for s in slots[:2]]
    created = partner.call("bookings", "create_booking", 201, body=partner.body("Booking", {
        "trust_id": trust.id, "preferred_windows": windows, "topics": ["cyber-security"],
        "external_ref": "NHSP-2027-0001", "brief": "New chair; wants a shared view of cyber risk."})).parsed
    booking_id = created.id
    assert created.status == "requested" and created.starts_at is None
    [(kind, data)] = events()
    assert kind == "booking.created" and data["starts_at"] is None and data["external_ref"] == "NHSP-2027-0001"

    # 2. Proposal: the programme team sets a time, moving it to provisional in the same PATCH.
    start = slots[0].starts_at
    coordinator.call("bookings", "update_reschedule_or_change_status_of_booking", booking_id=booking_id,
                     body=coordinator.body("BookingPatch", {"starts_at": start.isoformat(), "status": "provisional"}),
                     if_match="*")
    got = dict(events())
    assert got["booking.status_changed"]["previous_status"] == "requested"
    assert got["booking.updated"]["changed_fields"] == ["ends_at", "sequence", "starts_at"]
    assert got["booking.updated"]["previous"]["starts_at"] is None

    # 3. Confirmation.
    coordinator.call("bookings", "update_reschedule_or_change_status_of_booking", booking_id=booking_id,
                     body=coordinator.body("BookingPatch", {"status": "confirmed"}), if_match="*")
    [(kind, data)] = events()
    assert (kind, data["status"], data["previous_status"]) == ("booking.status_changed", "confirmed", "provisional")

    # 4. Change request: the partner asks for an hour later; the programme team accepts.
    later = start + timedelta(hours=1)
    change = partner.call("change_requests", "ask_to_change_booking", 201, booking_id=booking_id,
                          body=partner.body("ChangeRequest", {"starts_at": later.isoformat(),
                                                              "message": "The chair joins at 11."})).parsed
    assert change.status == "open"
    [(kind, data)] = events()
    assert (kind, data["id"], data["requested_fields"]) == ("booking.change_requested", str(change.id), ["starts_at"])
    coordinator.call("change_requests", "accept_or_decline_change_request", change_request_id=change.id,
                     body=coordinator.body("Resolution", {"status": "accepted", "response": "Done."}), if_match="*")
    got = dict(events())
    assert (got["change_request.resolved"]["status"], got["change_request.resolved"]["response"]) == (
        "accepted", "Done.")
    assert got["booking.updated"]["changed_fields"] == ["ends_at", "sequence", "starts_at"]
    booking = partner.call("bookings", "get_booking", booking_id=booking_id).parsed
    assert booking.starts_at == later and booking.status == "confirmed"

    # 5. Delivery: once the session has ended (the clock moved past it), the programme team marks it delivered.
    from api.bookings import service as booking_service
    monkeypatch.setattr(booking_service, "utcnow", lambda: later + timedelta(days=1))
    coordinator.call("bookings", "update_reschedule_or_change_status_of_booking", booking_id=booking_id,
                     body=coordinator.body("BookingPatch", {"status": "delivered"}), if_match="*")
    [(kind, data)] = events()
    assert (kind, data["status"]) == ("booking.status_changed", "delivered")

    # 6. Outcome: recorded, then a next step ticked off.
    outcome = coordinator.call("outcomes", "record_booking_outcome", booking_id=booking_id, body=coordinator.body(
        "Outcome", {"summary": "The board agreed a cyber risk appetite.", "attendance": 12,
                    "confidence_before": 2, "confidence_after": 4,
                    "next_steps": [{"description": "Cyber item at every board", "owner": "Chair"}]})).parsed
    [(kind, data)] = events()
    assert kind == "outcome.recorded" and set(data) == {"booking_id", "summary", "next_steps"}
    step_id = outcome.next_steps[0].id
    coordinator.call("outcomes", "update_next_step", step_id=step_id,
                     body=coordinator.body("NextStepPatch", {"done": True}), if_match="*")
    [(kind, data)] = events()
    assert (kind, data["id"], data["done"]) == ("next_step.updated", str(step_id), True)
    assert data["changed_fields"] == ["done"]

    # Every delivery succeeded at its first attempt, and the attempts are listed.
    deliveries = partner.call("webhooks", "list_webhook_deliveries", webhook_id=hook.id, page_size=100).parsed
    assert len(deliveries) == 10 and {d.status for d in deliveries} == {"succeeded"}
    attempts = partner.call("webhooks", "list_every_attempt_of_delivery", webhook_id=hook.id,
                            delivery_id=deliveries[0].id).parsed
    assert [a.status_code for a in attempts] == [200]
