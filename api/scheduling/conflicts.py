"""Scheduling conflicts: one piece of code for every booking write and for the dry-run check.

Overlap is half-open on absolute UTC time (back-to-back is fine) and only against live rows.
Writers first take row locks (``lock``) on the trust and every speaker involved, in a fixed
order, so two requests that could conflict run their check-then-write one after the other.
On SQLite the request already holds the database write lock (BEGIN IMMEDIATE) and FOR UPDATE
renders as nothing, so the same code path serialises there too.
"""

from __future__ import annotations

from datetime import datetime

from collections.abc import Sequence

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session, selectinload

from api.bookings.models import SEATED, Booking, BookingSpeaker, Registration, Slot, booking_attendees
from api.fields import to_utc_text
from api.scheduling.availability import AvailabilityException, WeeklyWindow, available_intervals, covers, overlaps
from api.speakers.models import Speaker
from api.trusts.models import Contact, Trust


def lock(session: Session, trust_ids: list[str], speaker_ids: list[str], contact_ids: Sequence[str] = ()) -> None:
    """Lock the trust, speaker and contact rows a write depends on: trusts, speakers, then contacts (the people
    whose time ``attendee_overlap`` guards), each in id order.

    One global order means two writers never wait on each other in a cycle. On SQLite the request already
    holds the database's write lock (BEGIN IMMEDIATE), so there is nothing to take.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    for model, ids in ((Trust, trust_ids), (Speaker, speaker_ids), (Contact, contact_ids)):
        ids = sorted({i for i in ids if i})
        if ids:
            session.execute(select(model.id).where(model.id.in_(ids)).order_by(model.id).with_for_update()).all()


def _conflict(kind: str, booking_id: str | None, speaker_id: str | None, start: datetime, end: datetime) -> dict:
    return {"kind": kind, "booking_id": booking_id, "speaker_id": speaker_id,
            "starts_at": to_utc_text(start), "ends_at": to_utc_text(end)}


def trust_overlap(trust_id, starts_at: datetime, ends_at: datetime, exclude_booking_id: str | None = None) -> list:
    """The trust rule as conditions on ``Booking``: a live booking of the trust (``trust_id``: a value or a column)
    overlapping ``[starts_at, ends_at)``. Masterclasses are outside the rule, both ways."""
    conditions = [Booking.trust_id == trust_id, Booking.live.is_(True), Booking.kind != "masterclass",
                  Booking.starts_at < ends_at, Booking.ends_at > starts_at]
    if exclude_booking_id:
        conditions.append(Booking.id != exclude_booking_id)
    return conditions


def find_conflicts(session: Session, *, trust_id: str | None, starts_at: datetime, ends_at: datetime,
                   slots: list[Slot], exclude_booking_id: str | None = None,
                   check_availability: bool = True, contact_ids: Sequence[str] = ()) -> list[dict]:
    """Everything a live booking at ``[starts_at, ends_at)`` with these speaker slots would hit.

    ``booking_id``/``starts_at``/``ends_at`` in an overlap are the other booking's; in an
    ``outside_availability`` they are the booking being changed (or None) and the requested slot.
    ``trust_id`` None skips the trust check (a speaker-only change, a masterclass). ``contact_ids`` are the
    people who would be in it (attendees, registered participants): ``attendee_overlap`` for each.
    """
    found: list[dict] = attendee_conflicts(session, contact_ids, starts_at, ends_at, exclude_booking_id)
    if trust_id is not None:
        stmt = select(Booking.id, Booking.starts_at, Booking.ends_at).where(
            *trust_overlap(trust_id, starts_at, ends_at, exclude_booking_id))
        for row in session.execute(stmt.order_by(Booking.starts_at, Booking.id)):
            found.append(_conflict("trust_overlap", row.id, None, row.starts_at, row.ends_at))
    if not slots:
        return found

    speaker_ids = sorted({slot.speaker_id for slot in slots})
    first, last = min(s.starts_at for s in slots), max(s.ends_at for s in slots)
    stmt = select(BookingSpeaker.booking_id, BookingSpeaker.speaker_id, BookingSpeaker.starts_at,
                  BookingSpeaker.ends_at).where(
        BookingSpeaker.speaker_id.in_(speaker_ids), BookingSpeaker.live.is_(True),
        BookingSpeaker.starts_at < last, BookingSpeaker.ends_at > first)
    if exclude_booking_id:
        stmt = stmt.where(BookingSpeaker.booking_id != exclude_booking_id)
    taken = session.execute(stmt.order_by(BookingSpeaker.starts_at, BookingSpeaker.booking_id)).all()
    for slot in slots:
        for row in taken:
            if row.speaker_id == slot.speaker_id and overlaps(slot.starts_at, slot.ends_at, row.starts_at, row.ends_at):
                found.append(_conflict("speaker_overlap", row.booking_id, row.speaker_id, row.starts_at, row.ends_at))

    if check_availability:
        speakers = {s.id: s for s in session.scalars(
            select(Speaker).where(Speaker.id.in_(speaker_ids))
            .options(selectinload(Speaker.weekly), selectinload(Speaker.exceptions)))}
        for slot in slots:
            speaker = speakers.get(slot.speaker_id)
            if speaker is None:
                continue
            free = available_intervals(speaker.timezone, weekly_windows(speaker), availability_exceptions(speaker),
                                       slot.starts_at, slot.ends_at)
            if not covers(free, slot.starts_at, slot.ends_at):
                found.append(_conflict("outside_availability", exclude_booking_id, slot.speaker_id,
                                       slot.starts_at, slot.ends_at))
    return found


def attendee_conflicts(session: Session, contact_ids: Sequence[str], starts_at: datetime, ends_at: datetime,
                       exclude_booking_id: str | None = None) -> list[dict]:
    """``attendee_overlap``: these people in another live event overlapping ``[starts_at, ends_at)`` — a board
    session they attend, or a class where they hold a seat (a waiting-list place holds no time)."""
    ids = sorted({i for i in contact_ids if i})
    if not ids:
        return []
    overlap = (Booking.live.is_(True), Booking.starts_at < ends_at, Booking.ends_at > starts_at)
    if exclude_booking_id:
        overlap += (Booking.id != exclude_booking_id,)
    attending = (select(Booking.id, Booking.starts_at, Booking.ends_at, booking_attendees.c.contact_id)
                 .join(booking_attendees, booking_attendees.c.booking_id == Booking.id)
                 .where(booking_attendees.c.contact_id.in_(ids), *overlap))
    seated = (select(Booking.id, Booking.starts_at, Booking.ends_at, Registration.contact_id)
              .join(Registration, Registration.booking_id == Booking.id)
              .where(Registration.contact_id.in_(ids), Registration.status.in_(SEATED), *overlap))
    rows = session.execute(union_all(attending, seated).order_by("starts_at", "id", "contact_id")).all()
    return [{**_conflict("attendee_overlap", row.id, None, row.starts_at, row.ends_at), "contact_id": row.contact_id}
            for row in rows]


def weekly_windows(speaker: Speaker) -> list[WeeklyWindow]:
    return [WeeklyWindow(w.weekday, w.start_minute, w.end_minute) for w in speaker.weekly]


def availability_exceptions(speaker: Speaker) -> list[AvailabilityException]:
    return [AvailabilityException(e.starts_at, e.ends_at, e.available) for e in speaker.exceptions]
