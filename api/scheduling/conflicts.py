"""Scheduling conflicts: one piece of code for every booking write and for the dry-run check.

Overlap is half-open on absolute UTC time (back-to-back is fine) and only against live rows.
Writers first take row locks (``lock``) on the trust and every speaker involved, in a fixed
order, so two requests that could conflict run their check-then-write one after the other.
On SQLite the request already holds the database write lock (BEGIN IMMEDIATE) and FOR UPDATE
renders as nothing, so the same code path serialises there too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.bookings.models import Booking, BookingSpeaker, Slot
from api.fields import to_utc_text
from api.scheduling.availability import AvailabilityException, WeeklyWindow, available_intervals, covers, overlaps
from api.speakers.models import Speaker
from api.trusts.models import Trust


def lock(session: Session, trust_ids: list[str], speaker_ids: list[str]) -> None:
    """Lock the trust and speaker rows a write depends on: trusts then speakers, each in id order.

    One global order means two writers never wait on each other in a cycle. On SQLite the request already
    holds the database's write lock (BEGIN IMMEDIATE), so there is nothing to take.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    if trust_ids:
        session.execute(select(Trust.id).where(Trust.id.in_(sorted(set(trust_ids))))
                        .order_by(Trust.id).with_for_update()).all()
    if speaker_ids:
        session.execute(select(Speaker.id).where(Speaker.id.in_(sorted(set(speaker_ids))))
                        .order_by(Speaker.id).with_for_update()).all()


def _conflict(kind: str, booking_id: str | None, speaker_id: str | None, start: datetime, end: datetime) -> dict:
    return {"kind": kind, "booking_id": booking_id, "speaker_id": speaker_id,
            "starts_at": to_utc_text(start), "ends_at": to_utc_text(end)}


def find_conflicts(session: Session, *, trust_id: str | None, starts_at: datetime, ends_at: datetime,
                   slots: list[Slot], exclude_booking_id: str | None = None,
                   check_availability: bool = True) -> list[dict]:
    """Everything a live booking at ``[starts_at, ends_at)`` with these speaker slots would hit.

    ``booking_id``/``starts_at``/``ends_at`` in an overlap are the other booking's; in an
    ``outside_availability`` they are the booking being changed (or None) and the requested slot.
    ``trust_id`` None skips the trust check (a speaker-only change).
    """
    found: list[dict] = []
    if trust_id is not None:
        stmt = select(Booking.id, Booking.starts_at, Booking.ends_at).where(
            Booking.trust_id == trust_id, Booking.live.is_(True),
            Booking.starts_at < ends_at, Booking.ends_at > starts_at)
        if exclude_booking_id:
            stmt = stmt.where(Booking.id != exclude_booking_id)
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


def weekly_windows(speaker: Speaker) -> list[WeeklyWindow]:
    return [WeeklyWindow(w.weekday, w.start_minute, w.end_minute) for w in speaker.weekly]


def availability_exceptions(speaker: Speaker) -> list[AvailabilityException]:
    return [AvailabilityException(e.starts_at, e.ends_at, e.available) for e in speaker.exceptions]
