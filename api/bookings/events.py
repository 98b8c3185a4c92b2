"""The one place every booking write reports itself: audit trail, outbox events, stored renderings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from api import audit, derived, outbox
from api.auth import Principal
from api.bookings.models import Booking
from api.bookings.schemas import BookingSchema

ACTIONS = ("create", "update", "status_change", "cancel", "speaker_added", "speaker_removed")

# Written by a status change itself: a `booking.status_changed` event says them, not `booking.updated`.
STATUS_FIELDS = frozenset({"status", "cancel_reason", "cancelled_at"})

# Fields that only say "the row was written", not what changed: left out of audit diffs.
_VOLATILE = ("updated_at", "created_at")


# Packages above this one that react to every booking write (invitation emails: ``api.mail``), registered by
# ``create_app`` under a name: called with (session, booking, action, before, after) inside the transaction.
LISTENERS: dict[str, Callable[..., None]] = {}


def register_listener(name: str, listener: Callable[..., None]) -> None:
    LISTENERS[name] = listener


def snapshot(booking: Booking) -> dict[str, Any]:
    """The booking as a coordinator sees it, as plain JSON values (the outbox payload)."""
    return BookingSchema().dump(booking)


def _outbox_type(action: str) -> str:
    return {"create": "booking.created", "status_change": "booking.status_changed",
            "cancel": "booking.cancelled"}.get(action, "booking.updated")


def _events(action: str, before: dict[str, Any], after: dict[str, Any], full: dict[str, Any]) -> list[tuple[str, dict]]:
    """The webhook events for one write: ``booking.updated`` names its ``changed_fields`` with their ``previous``
    values; a status change that also changed other fields sends ``booking.status_changed`` and
    ``booking.updated`` (for those other fields)."""
    type_ = _outbox_type(action)
    if type_ == "booking.created":
        return [(type_, dict(full))]
    changed = sorted(k for k in after.keys() | before.keys() if before.get(k) != after.get(k))
    events = []
    if action in ("status_change", "cancel"):
        events.append((type_, {**full, "previous_status": before.get("status")}))
        # What the status change itself writes is said by that event.
        implied = STATUS_FIELDS | ({"sequence"} if action == "cancel" else set())
        changed = [k for k in changed if k not in implied]
        if not changed:
            return events
    events.append(("booking.updated", {**full, "changed_fields": changed,
                                       "previous": {k: before.get(k) for k in changed}}))
    return events


def booking_changed(session: Session, principal: Principal, booking: Booking, action: str,
                    before: dict[str, Any], after: dict[str, Any]) -> None:
    """Record a booking write: audit event, outbox event for webhooks, refreshed calendar text.

    ``before``/``after`` are ``snapshot``s (``before`` is ``{}`` on create). Call after the
    write has been flushed, inside the request's transaction, so all of it commits together.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown booking action {action!r}")
    trimmed_before = {k: v for k, v in before.items() if k not in _VOLATILE}
    trimmed_after = {k: v for k, v in after.items() if k not in _VOLATILE}
    event = audit.record(session, principal, "booking", booking.id, action, trimmed_before, trimmed_after)
    if event is None:
        return  # an update that changed nothing: nothing to tell anyone
    for type_, payload in _events(action, trimmed_before, trimmed_after, after):
        outbox.emit(session, type_, entity_type="booking", entity_id=booking.id, partner_id=booking.partner_id,
                    payload=payload)
    derived.refresh(session, booking, created=action == "create")  # its stored renderings (api.derived_map)
    for listener in LISTENERS.values():
        listener(session, booking, action, before, after)
