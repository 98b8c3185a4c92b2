"""Subject access and erasure for contacts and speakers, and the retention sweep.

Erasure anonymises a person everywhere their name or email could have been copied (interaction
summaries, audit changes, stored idempotent responses, outbox payloads, webhook bodies, rendered
calendar events) and keeps every row that other figures count (attendance, speaker slots, outcomes).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import Text, cast, exists, or_, select
from sqlalchemy.orm import Session

from api import audit, derived, outbox
from api.audit import AuditEvent
from api.auth import Principal
from api.bookings.models import Booking, BookingRendering, BookingSpeaker, booking_attendees
from api.db import utcnow
from api.errors import NotFound
from api.feedback import service as feedback
from api.feedback.models import SurveyResponse
from api.idempotency import IdempotencyRecord
from api.mail import messages
from api.outbox import OutboxEvent
from api.registrations import service as registrations
from api.speakers.models import Speaker
from api.speakers.service import availability_of
from api.trusts.models import Contact, Interaction, interaction_contacts
from api.webhooks.models import WebhookDelivery

ERASED = "[erased]"
ERASED_CONTACT = "Erased contact"
ERASED_SPEAKER = "Erased speaker"
MIN_TERM = 3  # shorter strings would scrub unrelated text


def _terms(*values: str | None) -> list[str]:
    return sorted({v.strip() for v in values if v and len(v.strip()) >= MIN_TERM}, key=len, reverse=True)


def _former_values(session: Session, entity_id: str) -> list[str]:
    """Names (and any unmasked personal values) the person had before, from their audit trail."""
    values = []
    for changes in session.scalars(select(AuditEvent.changes).where(AuditEvent.entity_id == entity_id)):
        for field, change in (changes or {}).items():
            if field in ("name", "email", "phone") and isinstance(change, dict):
                values += [v for v in change.values() if isinstance(v, str) and v != audit.MASK]
    return values


def _variants(term: str) -> set[str]:
    """The term as written and as JSON escapes it (stored JSON text may be ASCII-escaped)."""
    return {term, json.dumps(term)[1:-1], json.dumps(term, ensure_ascii=False)[1:-1]}


def _pattern(terms: list[str]) -> re.Pattern | None:
    variants = sorted({v for t in terms for v in _variants(t)}, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in variants), re.IGNORECASE) if variants else None


def _like_any(column, terms: list[str]):
    return or_(*[column.ilike(f"%{_escape_like(v)}%", escape="\\") for t in terms for v in _variants(t)])


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _scrub(value: Any, pattern: re.Pattern) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_scrub(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, pattern) for k, v in value.items()}
    return value


def _scrub_everywhere(session: Session, terms: list[str], entity_id: str) -> None:
    """Replace the person's name and email wherever they were copied as text or JSON."""
    pattern = _pattern(terms)
    if pattern is None:
        return
    for interaction in session.scalars(select(Interaction).where(_like_any(Interaction.summary, terms))):
        interaction.summary = _scrub(interaction.summary, pattern)
    for response in session.scalars(select(SurveyResponse).where(
            or_(_like_any(SurveyResponse.name, terms), _like_any(SurveyResponse.next_step, terms)))):
        response.name, response.next_step = _scrub(response.name, pattern), _scrub(response.next_step, pattern)
    events = session.scalars(select(AuditEvent).where(or_(
        AuditEvent.entity_id == entity_id, _like_any(cast(AuditEvent.changes, Text), terms))))
    for event in events:
        scrubbed = _scrub(event.changes, pattern)
        if event.entity_id == entity_id:
            scrubbed = {field: {k: (ERASED if v not in (None, "", audit.MASK) and field in PERSONAL else v)
                                for k, v in change.items()} if isinstance(change, dict) else change
                        for field, change in scrubbed.items()}
        if scrubbed != event.changes:
            event.changes = scrubbed
    for record in session.scalars(select(IdempotencyRecord).where(_like_any(IdempotencyRecord.body, terms))):
        record.body = _scrub(record.body, pattern)
    for event in session.scalars(select(OutboxEvent).where(_like_any(cast(OutboxEvent.payload, Text), terms))):
        event.payload = _scrub(event.payload, pattern)
    for delivery in session.scalars(select(WebhookDelivery).where(_like_any(WebhookDelivery.payload, terms))):
        delivery.payload = _scrub(delivery.payload, pattern)
    # Stored renderings still showing a former name (one the rename hooks of api.derived never saw, such as a
    # text written before them): rendered again without it, as a new version of the booking.
    derived.changed(session, "booking", select(BookingRendering.booking_id)
                    .where(_like_any(BookingRendering.ical_vevent, terms)))


PERSONAL = frozenset({"name", "email", "phone", "notes", "bio", "summary"})


# --- contacts -------------------------------------------------------------------------------------

def get_contact(session: Session, contact_id: str) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("No contact with that id.")
    return contact


def export_contact(session: Session, principal: Principal, contact: Contact) -> dict:
    """Everything held about a board contact (subject access)."""
    interactions = session.scalars(
        select(Interaction).join(interaction_contacts, interaction_contacts.c.interaction_id == Interaction.id)
        .where(interaction_contacts.c.contact_id == contact.id).order_by(Interaction.occurred_at)).unique().all()
    bookings = session.execute(
        select(Booking.id, Booking.title, Booking.starts_at)
        .join(booking_attendees, booking_attendees.c.booking_id == Booking.id)
        .where(booking_attendees.c.contact_id == contact.id).order_by(Booking.starts_at)).all()
    events = _audit_about(session, contact.id)
    audit.record(session, principal, "contact", contact.id, "export")
    return {"contact": contact, "interactions": interactions,
            "bookings_attended": [{"id": b.id, "title": b.title, "starts_at": b.starts_at} for b in bookings],
            "survey_responses": feedback.responses_of_contact(session, contact.id),
            "registrations": registrations.for_contact(session, contact.id),
            "emails": messages.sent_to(session, "contact", contact.id), "audit_events": events}


def _audit_about(session: Session, entity_id: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.entity_id == entity_id)
                                .order_by(AuditEvent.occurred_at, AuditEvent.id)))


def erase_contact(session: Session, principal: Principal, contact: Contact) -> Contact:
    """Anonymise a contact everywhere; attendance rows and outcomes stay. Erasing again does nothing."""
    if contact.erased_at is not None:
        return contact
    given = registrations.scrub_contact(session, contact.id)  # their places stay counted
    terms = _terms(contact.name, contact.email, contact.phone, *given, *_former_values(session, contact.id))
    contact.name, contact.email, contact.phone, contact.notes = ERASED_CONTACT, None, None, None
    contact.erased_at = utcnow()
    session.flush()
    feedback.erase_contact_responses(session, contact.id)  # answers given under their name: scores kept
    _scrub_everywhere(session, terms, contact.id)
    messages.scrub_person(session, "contact", contact.id, ERASED_CONTACT)
    audit.record(session, principal, "contact", contact.id, "erase", {"erased_at": None},
                 {"erased_at": audit.snapshot(contact, ("erased_at",))["erased_at"]})
    outbox.emit(session, "contact.erased", entity_type="contact", entity_id=contact.id, partner_id=None,
                payload={"id": contact.id})
    session.flush()
    session.expire_all()
    return session.get(Contact, contact.id)


# --- speakers -------------------------------------------------------------------------------------

def get_speaker(session: Session, speaker_id: str) -> Speaker:
    speaker = session.get(Speaker, speaker_id)
    if speaker is None:
        raise NotFound("No speaker with that id.")
    return speaker


def export_speaker(session: Session, principal: Principal, speaker: Speaker) -> dict:
    slots = session.execute(
        select(Booking.id, Booking.title, Booking.starts_at, BookingSpeaker.role)
        .join(BookingSpeaker, BookingSpeaker.booking_id == Booking.id)
        .where(BookingSpeaker.speaker_id == speaker.id).order_by(Booking.starts_at)).all()
    events = _audit_about(session, speaker.id)
    audit.record(session, principal, "speaker", speaker.id, "export")
    return {"speaker": speaker, "availability": availability_of(speaker),
            "bookings": [{"id": b.id, "title": b.title, "starts_at": b.starts_at, "role": b.role} for b in slots],
            "emails": messages.sent_to(session, "speaker", speaker.id), "audit_events": events}


def erase_speaker(session: Session, principal: Principal, speaker: Speaker) -> Speaker:
    """Anonymise a speaker everywhere; their slots (and session counts) stay. Erasing again does nothing."""
    if speaker.erased_at is not None:
        return speaker
    terms = _terms(speaker.name, speaker.email, speaker.phone, *_former_values(session, speaker.id))
    speaker.name, speaker.email, speaker.phone, speaker.bio = ERASED_SPEAKER, None, None, None
    speaker.active = False
    speaker.erased_at = utcnow()
    session.flush()
    _scrub_everywhere(session, terms, speaker.id)
    messages.scrub_person(session, "speaker", speaker.id, ERASED_SPEAKER)
    audit.record(session, principal, "speaker", speaker.id, "erase", {"erased_at": None},
                 {"erased_at": audit.snapshot(speaker, ("erased_at",))["erased_at"]})
    session.flush()
    session.expire_all()
    return session.get(Speaker, speaker.id)


# --- retention ------------------------------------------------------------------------------------

def stale_contacts(session: Session, days: int, now: datetime | None = None) -> list[Contact]:
    """Contacts (not yet erased) of trusts with no booking, interaction or contact change for ``days``."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    busy_booking = exists().where(Booking.trust_id == Contact.trust_id,
                                  or_(Booking.starts_at >= cutoff, Booking.updated_at >= cutoff))
    busy_interaction = exists().where(Interaction.trust_id == Contact.trust_id,
                                      or_(Interaction.occurred_at >= cutoff, Interaction.updated_at >= cutoff))
    other = Contact.__table__.alias("other")
    busy_contact = exists().where(other.c.trust_id == Contact.trust_id, other.c.updated_at >= cutoff,
                                  other.c.erased_at.is_(None))
    return list(session.scalars(select(Contact).where(
        Contact.erased_at.is_(None), ~busy_booking, ~busy_interaction, ~busy_contact)
        .order_by(Contact.trust_id, Contact.id)))


def apply_retention(session: Session, principal: Principal, contacts: Iterable[Contact]) -> int:
    count = 0
    for contact in contacts:
        erase_contact(session, principal, contact)
        count += 1
    return count
