"""Who is owed which invitation email after a booking write, and the message itself (iMIP, RFC 6047).

Decisions people rely on:

- Only bookings that start in the future (and have a time) send anything; a message not sent before
  the session starts is dropped (``expired``), reminders included.
- A booking that becomes ``confirmed`` sends a REQUEST to everyone on it; while confirmed, a person
  added gets a REQUEST, a person removed gets a CANCEL, and a change of time, format, location or
  video link (the booking's SEQUENCE grows) sends everyone else an ``update`` (a REQUEST with the
  higher SEQUENCE). Cancelling a confirmed booking sends everyone on it a CANCEL.
- Each message names only its recipient as ATTENDEE; its ``Message-ID`` is made once and stored with
  the whole message, so every retry sends the same bytes.
- People without an address or with ``email_opt_out`` get nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, formataddr
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.bookings.models import Booking, BookingSpeaker, Registration
from api.calendar.events import SPEAKER_ROLES, personal_invite
from api.calendar.render import Attendee
from api.db import utcnow
from api.mail.models import EmailMessage
from api.speakers.models import Speaker
from api.trusts.models import Contact
from api.web import apply_sort

# Lines of at most 78 characters, CRLF, and nothing but ASCII on the wire (quoted-printable or base64
# where needed), so every relay passes the stored bytes through unchanged.
WIRE = policy.SMTP.clone(cte_type="7bit")
DEFAULT_REMINDER_DAYS = 2
SORTS = {"id": EmailMessage.id, "created_at": EmailMessage.created_at, "updated_at": EmailMessage.updated_at,
         "status": EmailMessage.status, "kind": EmailMessage.kind}
SUBJECTS = {"request": "Invitation", "update": "Updated", "cancel": "Cancelled", "reminder": "Reminder"}


@dataclass(frozen=True)
class Person:
    """Someone on a booking who may be sent its invitations."""

    type: str  # "speaker" | "contact"
    id: str
    name: str
    email: str | None
    role: str = "REQ-PARTICIPANT"  # their iCalendar ROLE
    opt_out: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.type, self.id

    @property
    def reachable(self) -> bool:
        return bool(self.email) and not self.opt_out

    def attendee(self) -> Attendee:
        return Attendee(self.name, self.email, self.role, id=self.id)


def _speaker(speaker: Speaker, role: str = "guest") -> Person:
    return Person("speaker", speaker.id, speaker.name, speaker.email, SPEAKER_ROLES[role], speaker.email_opt_out)


def _contact(contact: Contact) -> Person:
    return Person("contact", contact.id, contact.name, contact.email, "REQ-PARTICIPANT", contact.email_opt_out)


def recipients(session: Session, booking: Booking) -> list[Person]:
    """Everyone on the booking who is owed its invitations: speakers, attendee contacts, then the people
    holding a seat in a masterclass (``registered``), in arrival order. The one list every kind of message goes to.
    """
    people = [_speaker(slot.speaker, slot.role) for slot in booking.speakers]
    people += [_contact(contact) for contact in booking.attendees]
    return people + [_contact(contact) for contact in _seated(session, booking)]


def _seated(session: Session, booking: Booking) -> list[Contact]:
    if booking.kind != "masterclass":
        return []
    return list(session.scalars(
        select(Contact).join(Registration, Registration.contact_id == Contact.id)
        .where(Registration.booking_id == booking.id, Registration.status == "registered")
        .order_by(Registration.position)))


def person(session: Session, type_: str, id_: str) -> Person | None:
    """A speaker or contact by id (someone who has just been taken off a booking), or None."""
    if type_ == "speaker":
        speaker = session.get(Speaker, id_)
        return _speaker(speaker) if speaker else None
    contact = session.get(Contact, id_)
    return _contact(contact) if contact else None


def _keys(snapshot: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Who a booking snapshot (``api.bookings.events.snapshot``) names."""
    return ({("speaker", s["speaker_id"]) for s in snapshot.get("speakers") or []}
            | {("contact", c) for c in snapshot.get("attendee_ids") or []})


def config() -> Mapping[str, Any]:
    return current_app.config if has_app_context() else {}


# --- composing ----------------------------------------------------------------------------------

def _local(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%A %d %B %Y, %H:%M")


def _text(booking: Booking, who: Person, kind: str, method: str) -> str:
    when = f"{_local(booking.starts_at, booking.timezone)} to {_local(booking.ends_at, booking.timezone)[-5:]}"
    lines = [f"Dear {who.name},", ""]
    if method == "CANCEL" and booking.status == "cancelled":
        lines.append(f"{booking.title} on {when} ({booking.timezone}) has been cancelled.")
        if booking.cancel_reason:
            lines.append(f"Reason: {booking.cancel_reason}")
    elif method == "CANCEL":
        lines.append(f"You are no longer expected at {booking.title} on {when} ({booking.timezone}).")
    else:
        opening = {"request": "You are invited to", "update": "The details have changed for",
                   "reminder": "A reminder: you are expected at"}[kind]
        lines += [f"{opening} {booking.title}.", "", f"When: {when} ({booking.timezone})"]
        if booking.location:
            lines.append(f"Where: {booking.location}")
        if booking.video_url:
            lines.append(f"Join online: {booking.video_url}")
    lines += ["", "The calendar invitation is attached (invite.ics): open it to add or update the event.", ""]
    return "\n".join(lines)


def compose(booking: Booking, who: Person, kind: str, settings: Mapping[str, Any], message_id: str,
            date: datetime) -> MimeMessage:
    """The message: multipart/mixed of (text/plain | text/calendar; method=...) and invite.ics attached."""
    method, calendar = personal_invite(booking, settings, who.attendee(), cancel=kind == "cancel")
    ics = calendar.decode("utf-8")
    message = MimeMessage(policy=WIRE)
    message["From"] = formataddr((settings.get("ORGANIZER_NAME") or "", settings.get("ORGANIZER_EMAIL") or ""))
    message["To"] = formataddr((who.name, who.email))
    message["Subject"] = f"{SUBJECTS[kind]}: {booking.title} ({_local(booking.starts_at, booking.timezone)})"
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message.set_content(_text(booking, who, kind, method))
    message.add_alternative(ics, subtype="calendar", params={"method": method})
    message.make_mixed()
    message.add_attachment(calendar, maintype="text", subtype="calendar", filename="invite.ics",
                           params={"method": method})
    return message


def _domain(settings: Mapping[str, Any]) -> str:
    address = settings.get("ORGANIZER_EMAIL") or ""
    return address.rpartition("@")[2] or "boardroom.invalid"


def queue_message(session: Session, booking: Booking, who: Person, kind: str, *,
                  settings: Mapping[str, Any] | None = None, now: datetime | None = None,
                  due: datetime | None = None) -> EmailMessage | None:
    """Write one message to the outbox for ``who`` (None when they cannot be mailed). Callable by other packages.

    ``kind``: ``request``, ``update``, ``cancel`` or ``reminder``; ``due`` (default now): when to send it.
    """
    if not who.reachable or booking.starts_at is None:
        return None
    settings = config() if settings is None else settings
    now = now or utcnow()
    # Short enough that the header is never folded (a folded Message-ID trips some parsers).
    message_id = f"<{uuid.uuid4().hex}@{_domain(settings)}>"
    body = compose(booking, who, kind, settings, message_id, due or now).as_string()  # Date: when it is due
    row = EmailMessage(booking_id=booking.id, recipient_type=who.type, recipient_id=who.id,
                       recipient_name=who.name, recipient_email=who.email, kind=kind, sequence=booking.sequence or 0,
                       message_id=message_id, body=body, status="pending", attempts=0,
                       next_attempt_at=due or now, not_after=booking.starts_at, created_at=now)
    session.add(row)
    return row


# --- reacting to booking writes -----------------------------------------------------------------

def on_booking_changed(session: Session, booking: Booking, action: str, before: Mapping[str, Any],
                       after: Mapping[str, Any]) -> None:
    """Write the messages a booking write owes (registered with ``api.bookings.events``)."""
    now = utcnow()
    if booking.starts_at is None or booking.starts_at <= now:
        return  # a past session (or an untimed request) sends nothing
    was_confirmed = before.get("status") == "confirmed"
    is_confirmed = after.get("status") == "confirmed"
    if not (was_confirmed or is_confirmed):
        return
    settings = config()
    current = {p.key: p for p in recipients(session, booking)}
    # A booking write never changes who holds a seat in a class: they were on it before as they are now.
    had = _keys(before) | {("contact", c.id) for c in _seated(session, booking)}
    has = set(current)

    def send(key, kind):
        who = current.get(key) or person(session, *key)
        if who is not None:
            queue_message(session, booking, who, kind, settings=settings, now=now)

    if was_confirmed and not is_confirmed:
        for key in sorted(had | has):
            send(key, "cancel")
    elif not was_confirmed:
        for key in sorted(has):
            send(key, "request")
    else:
        for key in sorted(has - had):
            send(key, "request")
        for key in sorted(had - has):
            send(key, "cancel")
        if after.get("sequence") != before.get("sequence"):
            for key in sorted(has & had):
                send(key, "update")
    plan_reminders(session, booking, list(current.values()) if is_confirmed else [], settings, now)


def plan_reminders(session: Session, booking: Booking, people: list[Person], settings: Mapping[str, Any],
                   now: datetime) -> None:
    """Replace the booking's waiting reminders with one per person, due ``REMINDER_DAYS`` before it starts."""
    session.execute(delete(EmailMessage).where(EmailMessage.booking_id == booking.id,
                                               EmailMessage.kind == "reminder", EmailMessage.status == "pending"))
    due = _reminder_due(booking, settings, now)
    for who in people if due else []:
        queue_message(session, booking, who, "reminder", settings=settings, now=now, due=due)


def _reminder_due(booking: Booking, settings: Mapping[str, Any], now: datetime) -> datetime | None:
    """When the booking's reminders go, or None: reminders off, or too close (the invitation is the reminder)."""
    days = int(settings.get("REMINDER_DAYS", DEFAULT_REMINDER_DAYS))
    due = booking.starts_at - timedelta(days=days)
    return due if days and due > now else None


def on_registration_changed(session: Session, registration: Registration, previous_status: str | None) -> None:
    """A seat taken in a confirmed class that is still ahead: that person's REQUEST (and reminder); a seat given up:
    their CANCEL, and their waiting reminder withdrawn (registered with ``api.registrations.service``)."""
    took, left = registration.status == "registered", previous_status == "registered"
    if took == left:
        return
    booking = session.get(Booking, registration.booking_id)
    now = utcnow()
    if booking.status != "confirmed" or booking.starts_at is None or booking.starts_at <= now:
        return
    who = person(session, "contact", registration.contact_id)
    if who is None:
        return
    settings = config()
    queue_message(session, booking, who, "request" if took else "cancel", settings=settings, now=now)
    if took:
        if due := _reminder_due(booking, settings, now):
            queue_message(session, booking, who, "reminder", settings=settings, now=now, due=due)
    else:
        session.execute(delete(EmailMessage).where(
            EmailMessage.booking_id == booking.id, EmailMessage.kind == "reminder", EmailMessage.status == "pending",
            EmailMessage.recipient_type == "contact", EmailMessage.recipient_id == who.id))


def list_messages(booking_id: str, args: Mapping[str, Any]):
    """The booking's messages, newest first unless ``sort`` says otherwise (the statement; the route pages it)."""
    stmt = select(EmailMessage).where(EmailMessage.booking_id == booking_id)
    for name in ("status", "kind"):
        if args.get(name):
            stmt = stmt.where(getattr(EmailMessage, name) == args[name])
    if "updated_since" in args:
        stmt = stmt.where(EmailMessage.updated_at >= args["updated_since"])
    return apply_sort(stmt, args.get("sort"), SORTS, default=[EmailMessage.created_at.desc()])


def sent_to(session: Session, type_: str, id_: str) -> list[EmailMessage]:
    """Every message to one person, oldest first (their subject access export)."""
    return list(session.scalars(select(EmailMessage).where(EmailMessage.recipient_type == type_,
                                                           EmailMessage.recipient_id == id_)
                                .order_by(EmailMessage.created_at, EmailMessage.id)))


# --- erasure ------------------------------------------------------------------------------------

def scrub_person(session: Session, type_: str, id_: str, erased_name: str) -> None:
    """Erase a person from the email outbox: their own messages lose address, name and body (and are never
    sent); other messages of the bookings that named them (a speaker is named in every message of their
    sessions) keep no old body: sent ones drop it, waiting ones are written again from the booking as it is
    now, with the same Message-ID."""
    now = utcnow()
    for row in session.scalars(select(EmailMessage).where(EmailMessage.recipient_type == type_,
                                                          EmailMessage.recipient_id == id_)):
        row.recipient_email, row.recipient_name, row.body = None, erased_name, None
        if row.status == "pending":
            row.status, row.next_attempt_at, row.last_error = "failed", None, "Not sent: the recipient was erased."
    if type_ != "speaker":
        return  # a contact appears only in their own messages (as the one ATTENDEE)
    named = select(BookingSpeaker.booking_id).where(BookingSpeaker.speaker_id == id_)
    others = session.scalars(select(EmailMessage).where(EmailMessage.booking_id.in_(named),
                                                        EmailMessage.body.is_not(None))).all()
    settings = config()
    for row in others:
        if row.status != "pending":
            row.body = None
            continue
        booking = session.get(Booking, row.booking_id)
        current = {p.key: p for p in recipients(session, booking)}
        who = current.get((row.recipient_type, row.recipient_id)) or person(session, row.recipient_type,
                                                                            row.recipient_id)
        date = max(row.next_attempt_at or now, now)
        row.body = compose(booking, who, row.kind, settings, row.message_id, date).as_string() if who else None
