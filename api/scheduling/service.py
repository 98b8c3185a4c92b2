"""Scheduling queries: candidate times for speakers and a trust, and the dry-run conflict check."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from api.auth import Principal
from api.bookings.models import Booking, BookingSpeaker, Slot
from api.bookings.service import conflicts_as_seen_by
from api.errors import Forbidden, ValidationFailed
from api.scheduling.availability import available_intervals, covers
from api.scheduling.conflicts import availability_exceptions, find_conflicts, weekly_windows
from api.scheduling.slots import SpeakerCalendar, find_slots
from api.speakers.models import Speaker
from api.topics.models import Topic
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


def _busy(session: Session, speaker_ids: list[str], start: datetime, end: datetime) -> dict[str, list]:
    """Each speaker's live slots overlapping [start, end)."""
    busy: dict[str, list] = {i: [] for i in speaker_ids}
    if speaker_ids:
        for row in session.execute(select(BookingSpeaker.speaker_id, BookingSpeaker.starts_at, BookingSpeaker.ends_at)
                                   .where(BookingSpeaker.speaker_id.in_(speaker_ids), BookingSpeaker.live.is_(True),
                                          BookingSpeaker.starts_at < end, BookingSpeaker.ends_at > start)):
            busy[row.speaker_id].append((row.starts_at, row.ends_at))
    return busy


def _trust_busy(session: Session, trust: Trust, start: datetime, end: datetime) -> list:
    # A request without a time holds none: the overlap test leaves its NULL start out.
    return [(row.starts_at, row.ends_at) for row in session.execute(
        select(Booking.starts_at, Booking.ends_at).where(
            Booking.trust_id == trust.id, Booking.live.is_(True), Booking.starts_at < end, Booking.ends_at > start))]


def _calendars(speakers: dict[str, Speaker], busy: dict[str, list], start: datetime,
               end: datetime) -> dict[str, SpeakerCalendar]:
    return {
        sid: SpeakerCalendar(
            tz=speaker.timezone,
            available=available_intervals(speaker.timezone, weekly_windows(speaker),
                                          availability_exceptions(speaker), start, end),
            busy=busy[sid])
        for sid, speaker in speakers.items()
    }


def candidate_slots(session: Session, *, speaker_ids: list[str], trust_id: str, start: datetime, end: datetime,
                    duration: timedelta, step: timedelta, working_start: time, working_end: time,
                    weekdays: list[int], limit: int) -> list[dict]:
    """Times when every speaker is available and free and the trust is free, earliest first."""
    trust = _trust(session, trust_id)
    speakers = _speakers(session, speaker_ids, "speaker_ids")
    calendars = _calendars({sid: speakers[sid] for sid in speaker_ids}, _busy(session, speaker_ids, start, end),
                           start, end)
    found = find_slots(start=start, end=end, duration=duration, trust_tz=trust.timezone, speakers=calendars,
                       trust_busy=_trust_busy(session, trust, start, end), step=step, working_start=working_start,
                       working_end=working_end, weekdays=weekdays, limit=limit)
    return [{"starts_at": s.starts_at, "ends_at": s.ends_at, "local_times": s.local_times} for s in found]


def topic_slots(session: Session, *, trust_id: str, topic: str | None, start: datetime, end: datetime,
                duration: timedelta, step: timedelta, working_start: time, working_end: time,
                weekdays: list[int], limit: int) -> list[dict]:
    """Times when the trust is free and at least one active speaker (on ``topic``, if given) is available and
    free, earliest first: the partner's slot finder. The answer is times only: which speaker is free, and
    whose bookings make the others busy, is never said (``local_times`` is empty)."""
    trust = _trust(session, trust_id)
    candidates = select(Speaker).where(Speaker.active.is_(True))
    if topic is not None:
        if session.scalar(select(Topic.id).where(Topic.slug == topic)) is None:
            raise ValidationFailed({"topic": [f"No topic {topic!r}."]})
        candidates = candidates.where(Speaker.topics.any(Topic.slug == topic))
    speakers = {s.id: s for s in session.scalars(
        candidates.options(selectinload(Speaker.weekly), selectinload(Speaker.exceptions)))}
    calendars = _calendars(speakers, _busy(session, list(speakers), start, end), start, end)
    trust_busy = _trust_busy(session, trust, start, end)
    times: set[tuple[datetime, datetime]] = set()
    for sid, calendar in calendars.items():
        # Each speaker's earliest `limit` times hold the earliest `limit` of the union.
        found = find_slots(start=start, end=end, duration=duration, trust_tz=trust.timezone,
                           speakers={sid: calendar}, trust_busy=trust_busy, step=step, working_start=working_start,
                           working_end=working_end, weekdays=weekdays, limit=limit)
        times.update((s.starts_at, s.ends_at) for s in found)
    return [{"starts_at": a, "ends_at": b, "local_times": {}} for a, b in sorted(times)[:limit]]


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


def check_for(session: Session, principal: Principal, data: dict) -> dict:
    """``check`` as the caller may see it: a partner moves only its own bookings, and learns nothing of another
    party's booking (``booking_id: null``, no times), exactly as a booking write's 409 tells it."""
    if principal.is_partner:
        if data.get("override_availability"):
            raise Forbidden("Only the programme team may book a speaker outside their availability.",
                            errors={"override_availability": ["Partners may not set this field."]})
        if data.get("booking_id") and session.scalar(select(Booking.id).where(
                Booking.id == data["booking_id"], Booking.partner_id == principal.partner_id)) is None:
            raise ValidationFailed({"booking_id": ["No booking with that id."]})
    result = check(session, data)
    result["conflicts"] = conflicts_as_seen_by(session, principal, result["conflicts"])
    return result
