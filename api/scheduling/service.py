"""Scheduling queries: candidate times for speakers and a trust, and the dry-run conflict check."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from api.bookings.models import Booking, BookingSpeaker, Slot
from api.errors import ValidationFailed
from api.scheduling.availability import available_intervals, covers
from api.scheduling.conflicts import availability_exceptions, find_conflicts, weekly_windows
from api.scheduling.slots import SpeakerCalendar, find_slots
from api.speakers.models import Speaker
from api.trusts.models import Trust

DEFAULT_LENGTH = timedelta(minutes=180)


def available_speaker_ids(session: Session, candidates: Select, start: datetime, end: datetime,
                          partner_id: str | None = None) -> list[str]:
    """Speakers (among ``candidates``) whose availability covers [start, end) and who are not booked then.

    For a partner (``partner_id``), other parties' bookings are invisible: a speaker counts as booked
    only in the partner's own bookings, so the answer never shows which speakers are busy with someone
    else's session (declared availability still applies; the programme team settles real clashes when
    it puts a speaker on a booking, where the overlap check is complete).
    """
    speakers = session.scalars(
        candidates.options(selectinload(Speaker.weekly), selectinload(Speaker.exceptions))
    ).unique().all()
    booked = select(BookingSpeaker.speaker_id).where(
        BookingSpeaker.live.is_(True), BookingSpeaker.starts_at < end, BookingSpeaker.ends_at > start)
    if partner_id is not None:
        booked = booked.where(BookingSpeaker.booking_id.in_(select(Booking.id).where(Booking.partner_id == partner_id)))
    busy = set(session.scalars(booked))
    out = []
    for speaker in speakers:
        if speaker.id in busy:
            continue
        intervals = available_intervals(speaker.timezone, weekly_windows(speaker), availability_exceptions(speaker),
                                        start, end)
        if covers(intervals, start, end):
            out.append(speaker.id)
    return out


def _trust(session: Session, trust_id: str) -> Trust:
    trust = session.get(Trust, trust_id)
    if trust is None:
        raise ValidationFailed({"trust_id": ["No trust with that id."]})
    return trust


def _speakers(session: Session, ids: list[str], field: str) -> dict[str, Speaker]:
    found = {s.id: s for s in session.scalars(
        select(Speaker).where(Speaker.id.in_(ids))
        .options(selectinload(Speaker.weekly), selectinload(Speaker.exceptions)))}
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ValidationFailed({field: [f"No speaker with id {', '.join(unknown)}."]})
    inactive = [i for i in ids if not found[i].active]
    if inactive:
        raise ValidationFailed({field: [f"Speaker {', '.join(inactive)} is inactive."]})
    return found


def candidate_slots(session: Session, *, speaker_ids: list[str], trust_id: str, start: datetime, end: datetime,
                    duration: timedelta, step: timedelta, working_start: time, working_end: time,
                    weekdays: list[int], limit: int) -> list[dict]:
    """Times when every speaker is available and free and the trust is free, earliest first."""
    trust = _trust(session, trust_id)
    speakers = _speakers(session, speaker_ids, "speaker_ids")
    busy: dict[str, list] = {i: [] for i in speaker_ids}
    if speaker_ids:
        for row in session.execute(select(BookingSpeaker.speaker_id, BookingSpeaker.starts_at, BookingSpeaker.ends_at)
                                   .where(BookingSpeaker.speaker_id.in_(speaker_ids), BookingSpeaker.live.is_(True),
                                          BookingSpeaker.starts_at < end, BookingSpeaker.ends_at > start)):
            busy[row.speaker_id].append((row.starts_at, row.ends_at))
    trust_busy = [(row.starts_at, row.ends_at) for row in session.execute(
        select(Booking.starts_at, Booking.ends_at).where(
            Booking.trust_id == trust.id, Booking.live.is_(True), Booking.starts_at < end, Booking.ends_at > start))]
    calendars = {
        sid: SpeakerCalendar(
            tz=speakers[sid].timezone,
            available=available_intervals(speakers[sid].timezone, weekly_windows(speakers[sid]),
                                          availability_exceptions(speakers[sid]), start, end),
            busy=busy[sid])
        for sid in speaker_ids
    }
    found = find_slots(start=start, end=end, duration=duration, trust_tz=trust.timezone, speakers=calendars,
                       trust_busy=trust_busy, step=step, working_start=working_start, working_end=working_end,
                       weekdays=weekdays, limit=limit)
    return [{"starts_at": s.starts_at, "ends_at": s.ends_at, "local_times": s.local_times} for s in found]


def check(session: Session, data: dict) -> dict:
    """What a proposed booking would conflict with, written nowhere (the writes use the same code)."""
    trust = _trust(session, data["trust_id"])
    starts_at = data["starts_at"]
    ends_at = data.get("ends_at") or starts_at + DEFAULT_LENGTH
    if ends_at <= starts_at:
        raise ValidationFailed({"ends_at": ["Must be after starts_at."]})
    proposed = data.get("speakers", [])
    ids = list(dict.fromkeys(p["speaker_id"] for p in proposed))
    _speakers(session, ids, "speakers")
    slots = []
    for index, item in enumerate(proposed):
        start = item.get("starts_at") or starts_at
        end = item.get("ends_at") or (ends_at if item.get("starts_at") is None else None)
        if end is None or end <= start or start < starts_at or end > ends_at:
            raise ValidationFailed({f"speakers.{index}.starts_at": [
                "Give a slot (starts_at and ends_at) inside the booking's time, or neither."]})
        slots.append(Slot(item["speaker_id"], start, end))
    conflicts = find_conflicts(session, trust_id=trust.id, starts_at=starts_at, ends_at=ends_at, slots=slots,
                               exclude_booking_id=data.get("booking_id"),
                               check_availability=not data.get("override_availability"))
    return {"ok": not conflicts, "conflicts": conflicts}
