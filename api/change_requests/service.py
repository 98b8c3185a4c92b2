"""Change requests: a partner asks, a coordinator accepts (the change is applied as a booking PATCH) or declines."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api import audit, outbox
from api.auth import Principal
from api.bookings import service as bookings
from api.bookings.models import Booking
from api.change_requests.models import CHANGE_FIELDS, ChangeRequest
from api.change_requests.schemas import ChangeRequestSchema
from api.db import utcnow
from api.errors import Conflict, NotFound, ValidationFailed
from api.web import apply_sort

SORTS = {"id": ChangeRequest.id, "created_at": ChangeRequest.created_at, "updated_at": ChangeRequest.updated_at,
         "status": ChangeRequest.status}


def _snapshot(change_request: ChangeRequest) -> dict:
    return ChangeRequestSchema().dump(change_request)


def _tell(session: Session, principal: Principal, change_request: ChangeRequest, action: str, event_type: str,
          before: dict) -> None:
    """Audit entry and webhook event for a change request write, in the request's transaction."""
    after = _snapshot(change_request)
    audit.record(session, principal, "change_request", change_request.id, action,
                 {k: before[k] for k in before if k not in ("created_at", "updated_at")},
                 {k: after[k] for k in after if k not in ("created_at", "updated_at")})
    outbox.emit(session, event_type, entity_type="change_request", entity_id=change_request.id,
                partner_id=change_request.partner_id, payload=after)


def create(session: Session, principal: Principal, booking: Booking, data: dict) -> ChangeRequest:
    """A partner's request on its own booking that has a time and is no longer `requested`."""
    if not booking.has_time or booking.status == "requested":
        raise Conflict("This booking is still a request: change it with PATCH /api/v1/bookings/{id}.")
    if booking.status in ("cancelled", "delivered"):
        raise Conflict(f"A {booking.status} booking cannot be changed.")
    named = [f for f in CHANGE_FIELDS if f in data]
    if not named and not (data.get("message") or "").strip():
        raise ValidationFailed({"message": ["Ask for at least one change (starts_at, ends_at, format, location, "
                                            "video_url) or write a message."]})
    if data.get("starts_at") is not None and data["starts_at"] <= utcnow():
        raise ValidationFailed({"starts_at": ["Must be in the future."]})
    if "ends_at" in data and "starts_at" not in data and data["ends_at"] is not None \
            and data["ends_at"] <= booking.starts_at:
        raise ValidationFailed({"ends_at": ["Must be after the booking's start."]})
    change_request = ChangeRequest(booking_id=booking.id, partner_id=booking.partner_id, status="open",
                                   fields_named=",".join(named), message=data.get("message"),
                                   **{f: data[f] for f in named})
    session.add(change_request)
    session.flush()
    _tell(session, principal, change_request, "create", "booking.change_requested", {})
    return change_request


def list_change_requests(principal: Principal, args: dict) -> Select:
    stmt = select(ChangeRequest)
    if principal.is_partner:
        stmt = stmt.where(ChangeRequest.partner_id == principal.partner_id)
    if args.get("status"):
        stmt = stmt.where(ChangeRequest.status == args["status"])
    if args.get("booking_id"):
        stmt = stmt.where(ChangeRequest.booking_id == args["booking_id"])
    if "updated_since" in args:
        stmt = stmt.where(ChangeRequest.updated_at >= args["updated_since"])
    return apply_sort(stmt, args.get("sort"), SORTS, default=[ChangeRequest.created_at])


def get(session: Session, principal: Principal, change_request_id: str) -> ChangeRequest:
    """A change request by id; another partner's is not found (404)."""
    stmt = select(ChangeRequest).where(ChangeRequest.id == change_request_id)
    if principal.is_partner:
        stmt = stmt.where(ChangeRequest.partner_id == principal.partner_id)
    change_request = session.scalar(stmt)
    if change_request is None:
        raise NotFound("No change request with that id.")
    return change_request


def resolve(session: Session, principal: Principal, change_request: ChangeRequest, data: dict) -> ChangeRequest:
    """Accept (apply the change to the booking under every booking rule) or decline; or edit the response."""
    if change_request.status != "open":
        raise Conflict(f"This change request was already {change_request.status}.")
    before = _snapshot(change_request)
    status = data.get("status")
    if status == "accepted":
        booking = bookings.get_booking(session, principal, change_request.booking_id)
        # A conflict raises here and rolls the whole request back: the change request stays open.
        bookings.update_booking(session, principal, booking, change_request.changes())
    if "response" in data:
        change_request.response = data["response"]
    if status:
        change_request.status, change_request.resolved_at = status, utcnow()
    session.flush()
    if status:
        _tell(session, principal, change_request, "status_change", "change_request.resolved", before)
    else:
        audit.record(session, principal, "change_request", change_request.id, "update",
                     {"response": before["response"]}, {"response": change_request.response})
    return change_request
