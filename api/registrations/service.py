"""Registration rules: seats and the waiting list, attendee overlap, partners' registrations, and the seams
other packages use (who takes part in a booking; what happens when a place is cancelled).

Every write locks the people involved (their contact rows), then the class's booking row, and only then counts
seats and positions (``api.scheduling.conflicts.lock``'s order: people before the booking they join). So of N
simultaneous registrations for the last seat exactly one is ``registered`` and the others are ``waitlisted`` in
the order they got the lock, on PostgreSQL (row locks) and SQLite (the request's write lock) alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api import audit, derived, outbox
from api.auth import Principal
from api.bookings.models import SEATED, Booking, Registration, booking_attendees
from api.bookings.service import visible_to
from api.db import utcnow
from api.errors import (
    Conflict,
    Forbidden,
    NotFound,
    SchedulingConflict,
    ValidationFailed,
)
from api.registrations.schemas import RegistrationSchema
from api.scheduling.conflicts import attendee_conflicts, lock
from api.trusts.models import Contact, Trust
from api.trusts.service import create_contact
from api.web import Redacted, apply_sort, split_csv

PARTNER_HIDDEN = frozenset({"contact_id", "partner_id"})
PARTNER_FIELDS = frozenset({"trust_id", "name", "email", "role"})
SORTS = {"id": Registration.id, "position": Registration.position, "status": Registration.status,
         "created_at": Registration.created_at, "updated_at": Registration.updated_at}
AUDITED = ("booking_id", "contact_id", "trust_id", "status", "position", "partner_id", "given_name", "given_email")
# Where a PATCH may move a registration (``waitlisted`` is the class's answer when full, never asked for).
TRANSITIONS = {
    "registered": ("cancelled", "attended", "no_show"),
    "waitlisted": ("registered", "cancelled"),
    "cancelled": ("registered",),
    "attended": ("no_show", "registered"),
    "no_show": ("attended", "registered"),
}

# Called as ``hook(session, registration, previous_status)`` in the same transaction whenever a registration is
# made or changes status (a previous status of None: just made): the email package sends the person their
# REQUEST when they take a seat in a confirmed class, and METHOD:CANCEL when they give it up. ``create_app``
# registers it.
STATUS_HOOKS: list[Callable[[Session, Registration, str | None], None]] = []


def on_status_changed(hook: Callable[[Session, Registration, str | None], None]) -> None:
    """Register a reaction to a registration made or changing status (called inside the request's transaction)."""
    if hook not in STATUS_HOOKS:
        STATUS_HOOKS.append(hook)


def present(registration: Registration, principal: Principal) -> Any:
    return Redacted(registration, PARTNER_HIDDEN) if principal.is_partner else registration


def view(principal: Principal) -> str:
    return "partner" if principal.is_partner else "full"


# --- seams for other packages ----------------------------------------------------------------------

@dataclass(frozen=True)
class Participant:
    """A person taking part in a booking: an attendee contact, or a board member holding a seat in a class."""

    contact_id: str
    name: str
    email: str | None
    trust_id: str
    registration_id: str | None  # None for a booking's attendee


def participants(session: Session, booking_id: str) -> list[Participant]:
    """Who takes part in a booking (invites, emails): its attendees, then the people holding a seat
    (registered, attended or no-show) in arrival order; never the waiting list or cancelled places."""
    attending = session.execute(
        select(Contact.id, Contact.name, Contact.email, Contact.trust_id)
        .join(booking_attendees, booking_attendees.c.contact_id == Contact.id)
        .where(booking_attendees.c.booking_id == booking_id).order_by(Contact.name, Contact.id)).all()
    seated = session.execute(
        select(Contact.id, Contact.name, Contact.email, Registration.trust_id, Registration.id.label("rid"))
        .join(Registration, Registration.contact_id == Contact.id)
        .where(Registration.booking_id == booking_id, Registration.status.in_(SEATED))
        .order_by(Registration.position)).all()
    return ([Participant(r.id, r.name, r.email, r.trust_id, None) for r in attending]
            + [Participant(r.id, r.name, r.email, r.trust_id, r.rid) for r in seated])


def for_contact(session: Session, contact_id: str) -> list[Registration]:
    """A contact's registrations, oldest first (the subject-access export)."""
    return list(session.scalars(select(Registration).where(Registration.contact_id == contact_id)
                                .order_by(Registration.created_at, Registration.id)))


def scrub_contact(session: Session, contact_id: str) -> list[str]:
    """Erasure: forget the names and emails partners gave for this person (returned, so the caller scrubs their
    copies elsewhere); the places stay, and stay counted."""
    given = []
    for registration in for_contact(session, contact_id):
        if registration.given_name is not None or registration.given_email is not None:
            given += [registration.given_name, registration.given_email]
            registration.given_name, registration.given_email = None, None
    session.flush()
    return [value for value in given if value]


# --- reading -------------------------------------------------------------------------------------

def list_registrations(principal: Principal, booking: Booking, args: dict) -> Select:
    """A class's registrations in every status (``status`` filters), in arrival order unless sorted;
    a partner's, only those it made."""
    stmt = select(Registration).where(Registration.booking_id == booking.id)
    if principal.is_partner:
        stmt = stmt.where(Registration.partner_id == principal.partner_id)
    statuses = split_csv(args.get("status"))
    if statuses:
        stmt = stmt.where(Registration.status.in_(statuses))
    if "updated_since" in args:
        stmt = stmt.where(Registration.updated_at >= args["updated_since"])
    return apply_sort(stmt, args.get("sort"), SORTS, default=[Registration.position])


def get_class(session: Session, principal: Principal, booking_id: str) -> Booking:
    """The booking a registration request names, by primary key alone (its relationships load only if used);
    one a partner may not read is not found (404)."""
    booking = session.get(Booking, booking_id)
    if booking is None or not visible_to(principal, booking.partner_id, booking.kind):
        raise NotFound("No booking with that id.")
    return booking


def get_registration(session: Session, principal: Principal, registration_id: str) -> Registration:
    """A registration by id; a partner's are only those it made (others are 404)."""
    stmt = select(Registration).where(Registration.id == registration_id)
    if principal.is_partner:
        stmt = stmt.where(Registration.partner_id == principal.partner_id)
    registration = session.scalar(stmt)
    if registration is None:
        raise NotFound("No registration with that id.")
    return registration


# --- writing -------------------------------------------------------------------------------------

def create_registration(session: Session, principal: Principal, booking: Booking, data: dict) -> Registration:
    """Register a board member: ``registered`` while seats are left, else ``waitlisted``."""
    _open_for_registration(principal, booking)
    contact, given = _person(session, principal, data)
    _lock(session, booking, [contact.id])
    if session.scalar(select(Registration.id).where(Registration.booking_id == booking.id,
                                                    Registration.contact_id == contact.id)) is not None:
        raise Conflict("This person is already registered for this class.")
    status = "registered" if _seats_left(session, booking) > 0 else "waitlisted"
    if status == "registered":
        _raise_if_overlap(session, principal, booking, contact.id)
    registration = Registration(booking_id=booking.id, contact_id=contact.id, trust_id=contact.trust_id,
                                status=status, position=_next_position(session, booking),
                                partner_id=principal.partner_id if principal.is_partner else None, **given)
    session.add(registration)
    session.flush()
    _changed(session, principal, registration, "create", {})
    return registration


def update_registration(session: Session, principal: Principal, registration: Registration,
                        data: dict) -> Registration:
    """Change a registration's status; a freed seat goes to the first waitlisted person who can take it."""
    new_status = data["status"]
    if principal.is_partner and new_status != "cancelled":
        raise Forbidden("A partner may only cancel the registrations it made (status: cancelled).")
    booking = session.get(Booking, registration.booking_id)
    waiting = _waiting(session, booking) if registration.status in SEATED and new_status == "cancelled" else []
    _lock(session, booking, [registration.contact_id, *(r.contact_id for r in waiting)])
    session.refresh(registration)
    if new_status == registration.status:
        return registration
    if booking.status == "cancelled":
        raise Conflict("This class is cancelled: its registrations cannot change.")
    if new_status not in TRANSITIONS[registration.status]:
        raise Conflict(f"A {registration.status} registration cannot become {new_status}.",
                       allowed=list(TRANSITIONS[registration.status]))
    if new_status in ("attended", "no_show") and (booking.ends_at is None or booking.ends_at > utcnow()):
        raise Conflict("Attendance is recorded once the class has ended.")
    before = _snapshot(registration)
    freed = registration.status in SEATED and new_status == "cancelled"
    if new_status == "registered" and registration.status not in SEATED:
        if _seats_left(session, booking) <= 0:
            if registration.status == "waitlisted":
                raise Conflict("The class is full: this person stays on the waiting list.")
            new_status = "waitlisted"
        else:
            _raise_if_overlap(session, principal, booking, registration.contact_id)
        if registration.status == "cancelled":
            registration.position = _next_position(session, booking)  # back at the end of the queue
    registration.status = new_status
    session.flush()
    _changed(session, principal, registration, "status_change", before)
    if freed:
        promote(session, principal, booking)
    return registration


def fill_new_seats(session: Session, principal: Principal, booking: Booking) -> list[Registration]:
    """A class's capacity grew: the waiting list moves up into the new seats (registered with
    ``api.bookings.service.register_seats_added``)."""
    _lock(session, booking, [r.contact_id for r in _waiting(session, booking)])
    return promote(session, principal, booking)


def promote(session: Session, principal: Principal, booking: Booking) -> list[Registration]:
    """Fill free seats from the waiting list in order, skipping anyone who would then overlap another event.
    The caller holds the class's lock (and the waiting people's)."""
    promoted = []
    seats = _seats_left(session, booking)
    for registration in _waiting(session, booking):
        if seats <= 0:
            break
        if attendee_conflicts(session, [registration.contact_id], booking.starts_at, booking.ends_at, booking.id):
            continue
        before = _snapshot(registration)
        registration.status = "registered"
        session.flush()
        _changed(session, principal, registration, "status_change", before)
        promoted.append(registration)
        seats -= 1
    return promoted


# --- rules ---------------------------------------------------------------------------------------

def _open_for_registration(principal: Principal, booking: Booking) -> None:
    if booking.kind != "masterclass":
        raise Conflict("Only a masterclass takes registrations; a board session has attendees.")
    if booking.status == "cancelled":
        raise Conflict("This class is cancelled.")
    if principal.is_partner and booking.starts_at <= utcnow():
        raise Conflict("This class has already started.")


def _person(session: Session, principal: Principal, data: dict) -> tuple[Contact, dict]:
    """The contact to register, and what a partner gave (stored on the registration)."""
    if principal.is_partner:
        refused = sorted(set(data) - PARTNER_FIELDS)
        if refused:
            raise Forbidden(f"A partner may not set {', '.join(refused)} here.",
                            errors={f: ["Partners register by trust_id, name, email and role."] for f in refused})
    if "contact_id" in data:
        if set(data) - {"contact_id"}:
            raise ValidationFailed({"contact_id": ["Give contact_id alone, or trust_id, name, email (and role)."]})
        contact = session.get(Contact, data["contact_id"])
        if contact is None:
            raise ValidationFailed({"contact_id": ["No contact with that id."]})
        if contact.erased_at is not None:
            raise ValidationFailed({"contact_id": ["This contact has been erased."]})
        return contact, {}
    missing = [f for f in ("trust_id", "name", "email") if not data.get(f)]
    if missing:
        raise ValidationFailed({f: ["Missing data for required field."] for f in missing})
    trust = session.get(Trust, data["trust_id"])
    if trust is None or trust.archived_at is not None:
        raise ValidationFailed({"trust_id": ["No trust with that id." if trust is None else "This trust is archived."]})
    given = {"given_name": data["name"], "given_email": data["email"]} if principal.is_partner else {}
    contact = session.scalar(select(Contact).where(
        Contact.trust_id == trust.id, Contact.erased_at.is_(None),
        func.lower(Contact.email) == data["email"].lower()).order_by(Contact.created_at, Contact.id).limit(1))
    if contact is None:
        contact = create_contact(session, principal, trust, {
            "name": data["name"], "email": data["email"], "role": data.get("role")})
    return contact, given


def _lock(session: Session, booking: Booking, contact_ids: list[str]) -> None:
    """The class, then its people (SQLite already holds its write lock). The class comes first because a booking
    write that grows the capacity holds the class's row (its UPDATE) before it locks the waiting people: the same
    order on both paths, so they queue instead of deadlocking."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(select(Booking.id).where(Booking.id == booking.id).with_for_update()).all()
    lock(session, [], [], contact_ids)


def _seats_left(session: Session, booking: Booking) -> int:
    taken = session.scalar(select(func.count()).where(Registration.booking_id == booking.id,
                                                      Registration.status.in_(SEATED)))
    return (booking.capacity or 0) - taken


def _next_position(session: Session, booking: Booking) -> int:
    last = session.scalar(select(func.max(Registration.position)).where(Registration.booking_id == booking.id))
    return (last or 0) + 1


def _waiting(session: Session, booking: Booking) -> list[Registration]:
    return list(session.scalars(select(Registration).where(
        Registration.booking_id == booking.id, Registration.status == "waitlisted").order_by(Registration.position)))


def _raise_if_overlap(session: Session, principal: Principal, booking: Booking, contact_id: str) -> None:
    found = attendee_conflicts(session, [contact_id], booking.starts_at, booking.ends_at, booking.id)
    if not found:
        return
    if principal.is_partner:  # nothing of another party's booking, nor a contact's id
        found = [{"kind": "attendee_overlap", "booking_id": None, "speaker_id": None}]
    raise SchedulingConflict("This person is already in another event at that time: attendee_overlap.",
                             conflicts=found)


def _snapshot(registration: Registration) -> dict[str, Any]:
    # The given name and email under their own names, so the audit trail masks the email like a contact's.
    data = audit.snapshot(registration, AUDITED)
    data["name"], data["email"] = data.pop("given_name"), data.pop("given_email")
    return data


def _changed(session: Session, principal: Principal, registration: Registration, action: str,
             before: dict[str, Any]) -> None:
    """Audit, ``registration.changed`` to the partner that made it (and programme hooks), and the class's
    counts: its stored JSON is cleared and its version bumped (``api.derived``), with no ``booking.updated``."""
    audit.record(session, principal, "registration", registration.id, action, before, _snapshot(registration))
    payload = {**RegistrationSchema().dump(registration), "previous_status": before.get("status")}
    outbox.emit(session, "registration.changed", entity_type="registration", entity_id=registration.id,
                partner_id=registration.partner_id, payload=payload)
    derived.changed(session, "booking", select(Booking.id).where(Booking.id == registration.booking_id),
                    ("json", "json_partner"))
    for hook in STATUS_HOOKS:
        hook(session, registration, before.get("status"))
