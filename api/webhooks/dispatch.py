"""Turn outbox events into deliveries: one per matching endpoint, with the exact body to sign.

The payload every subscriber receives (``API_VERSION`` names its shape)::

    {"id": "<event id>", "type": "booking.created", "api_version": "2026-11-01",
     "occurred_at": "2026-11-26T10:00:00Z", "data": {...}}

``data`` is the object as *that subscriber* may see it: ``data_for`` is the one place that
decides, so a partner's hook never carries more than the partner could read through the API.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.fields import to_utc_text
from api.outbox import OutboxEvent
from api.webhooks.models import WebhookDelivery, WebhookEndpoint

API_VERSION = "2026-11-01"
PING = "ping"

# What a partner may see of each kind of object, mirroring the API's own partner views.
PARTNER_HIDDEN_BOOKING_FIELDS = frozenset({"notes", "attendee_ids", "attendees"})
PARTNER_OUTCOME_FIELDS = ("booking_id", "summary", "next_steps")
# A registration as the partner that made it reads it: the name and email it gave, no contact id.
PARTNER_HIDDEN_REGISTRATION_FIELDS = frozenset({"contact_id", "partner_id"})


def data_for(endpoint: WebhookEndpoint, event_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The event's ``data`` as this endpoint's owner may see it, or None if it may not hear it at all."""
    if endpoint.partner_id is None:
        return data  # programme-wide hooks belong to coordinators, who see everything
    if event_type == "booking.change_requested" or event_type.startswith("change_request."):
        return data  # the partner's own request, as it reads it through the API
    if event_type.startswith("booking."):
        return _partner_booking(event_type, data)
    if event_type == "next_step.updated":
        return data  # partners read their bookings' next steps
    if event_type == "outcome.recorded":
        return {k: data[k] for k in PARTNER_OUTCOME_FIELDS if k in data}
    if event_type == "registration.changed":
        return {k: v for k, v in data.items() if k not in PARTNER_HIDDEN_REGISTRATION_FIELDS}
    if event_type == PING:
        return data
    return None  # anything else (contact.erased, future types) is not for partners until decided


def _partner_booking(event_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """A booking event for its partner: without the hidden fields, also in ``changed_fields`` and ``previous``;
    an update that changed only hidden fields is not sent at all."""
    out = {k: v for k, v in data.items() if k not in PARTNER_HIDDEN_BOOKING_FIELDS}
    if "changed_fields" in data:
        out["changed_fields"] = [f for f in data["changed_fields"] if f not in PARTNER_HIDDEN_BOOKING_FIELDS]
        out["previous"] = {k: v for k, v in (data.get("previous") or {}).items()
                           if k not in PARTNER_HIDDEN_BOOKING_FIELDS}
        if event_type == "booking.updated" and not out["changed_fields"]:
            return None
    return out


def hears(endpoint: WebhookEndpoint, event: OutboxEvent) -> bool:
    """Whether an active endpoint subscribes to this event and may hear about its object."""
    if not endpoint.active or event.type not in (endpoint.events or []):
        return False
    if endpoint.created_at is not None and event.occurred_at < endpoint.created_at:
        return False  # an endpoint hears only what happened after it was created
    return endpoint.partner_id is None or endpoint.partner_id == event.partner_id


def body_for(event: OutboxEvent, data: dict[str, Any]) -> str:
    """The JSON text to sign and send (compact, UTF-8, keys in a fixed order)."""
    envelope = {
        "id": event.id,
        "type": event.type,
        "api_version": API_VERSION,
        "occurred_at": to_utc_text(event.occurred_at),
        "data": data,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, default=str)


def deliveries_for(event: OutboxEvent, endpoints: list[WebhookEndpoint], now: datetime) -> list[WebhookDelivery]:
    deliveries = []
    for endpoint in endpoints:
        if not hears(endpoint, event):
            continue
        data = data_for(endpoint, event.type, event.payload or {})
        if data is None:
            continue
        deliveries.append(WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, event_type=event.type,
                                          payload=body_for(event, data), status="pending", attempts=0,
                                          next_attempt_at=now))
    return deliveries


def dispatch_pending(session: Session, now: datetime, *, limit: int = 200) -> int:
    """Fan out up to ``limit`` undispatched events into deliveries; return how many events were handled.

    Runs inside the caller's transaction, which must take a write lock on SQLite (BEGIN
    IMMEDIATE); on PostgreSQL the rows are claimed with FOR UPDATE SKIP LOCKED, so two workers
    never fan out the same event twice.
    """
    events = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.dispatched_at.is_(None))
        .order_by(OutboxEvent.occurred_at, OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not events:
        return 0
    endpoints = list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))))
    for event in events:
        session.add_all(deliveries_for(event, endpoints, now))
        event.dispatched_at = now
    session.flush()
    return len(events)
