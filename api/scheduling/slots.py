"""The slot finder: times when every named speaker and the trust are free, earliest first.

It works on free intervals, not minutes: intersect every speaker's free time (available minus
busy), remove the trust's bookings, cut the result to each day's working hours in the trust's
timezone, then walk the step-aligned start times inside what is left. The cost grows with the
number of days and intervals, and with ``limit``, not with the length of the range in minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from api.scheduling.availability import (
    Interval,
    as_utc_range,
    intersect,
    local_dates,
    local_day_bounds,
    merge,
    subtract,
)

WORKING_DAYS = frozenset(range(5))


@dataclass(frozen=True)
class SpeakerCalendar:
    """What the finder needs to know about one speaker, all in UTC.

    ``available`` comes from ``available_intervals`` over at least the searched range;
    ``busy`` is the speaker's non-cancelled booking slots.
    """

    tz: str
    available: list[Interval]
    busy: list[Interval] = field(default_factory=list)


@dataclass(frozen=True)
class Slot:
    """A candidate time; ``local_times`` maps speaker id to the local start in ISO 8601."""

    starts_at: datetime
    ends_at: datetime
    local_times: dict[str, str]


def find_slots(
    *,
    start: datetime,
    end: datetime,
    duration: timedelta,
    trust_tz: str,
    speakers: Mapping[str, SpeakerCalendar],
    trust_busy: Sequence[Interval],
    step: timedelta = timedelta(minutes=30),
    working_start: time = time(9),
    working_end: time = time(17),
    weekdays: Iterable[int] = WORKING_DAYS,
    limit: int = 100,
) -> list[Slot]:
    """Up to ``limit`` slots of ``duration`` inside ``[start, end)``, earliest first.

    A slot starts on a multiple of ``step`` after local midnight in the trust's timezone,
    lies wholly within that day's working hours on one of ``weekdays`` (0 = Monday), finds
    every speaker available and not busy for all of it, and does not overlap the trust's
    bookings. Back-to-back with a booking is fine. Working hours use the same wall-clock
    rules as availability windows; a start time the clocks skip is not offered, and a
    repeated one is offered once, at its first occurrence.
    """
    start, end = as_utc_range(start, end)
    if duration <= timedelta(0):
        raise ValueError("duration must be positive.")
    if step <= timedelta(0):
        raise ValueError("step must be positive.")
    if working_start >= working_end:
        raise ValueError("working_start must be before working_end.")
    if limit < 0:
        raise ValueError("limit must not be negative.")
    zone = ZoneInfo(trust_tz)
    speaker_zones = {speaker_id: ZoneInfo(cal.tz) for speaker_id, cal in speakers.items()}
    allowed = frozenset(weekdays)
    if limit == 0 or start >= end:
        return []

    free = [(start, end)]
    for calendar in speakers.values():
        free = intersect(free, subtract(calendar.available, calendar.busy))
        if not free:
            return []
    free = subtract(free, trust_busy)

    first_minute, last_minute = _minutes(working_start), _minutes(working_end)
    working = merge(
        local_day_bounds(day, first_minute, last_minute, zone)
        for day in local_dates(zone, start, end)
        if day.weekday() in allowed
    )

    slots: list[Slot] = []
    for window_start, window_end in intersect(free, working):
        if window_end - window_start < duration:
            continue
        for starts_at in _aligned_starts(window_start, window_end, duration, step, zone):
            slots.append(
                Slot(
                    starts_at=starts_at,
                    ends_at=starts_at + duration,
                    local_times={
                        speaker_id: starts_at.astimezone(speaker_zone).isoformat()
                        for speaker_id, speaker_zone in speaker_zones.items()
                    },
                )
            )
            if len(slots) >= limit:
                return slots
    return slots


def _aligned_starts(
    window_start: datetime,
    window_end: datetime,
    duration: timedelta,
    step: timedelta,
    zone: ZoneInfo,
) -> Iterable[datetime]:
    """Step-aligned local start times whose whole slot fits in ``[window_start, window_end)``."""
    wall = window_start.astimezone(zone).replace(tzinfo=None)
    midnight = datetime.combine(wall.date(), time())
    index = -((midnight - wall) // step)  # ceiling division: the first aligned time >= wall
    while True:
        candidate = midnight + index * step
        index += 1
        instant = candidate.replace(tzinfo=zone, fold=0).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) != candidate:
            continue  # the clocks skip this time
        if instant < window_start:
            continue  # second pass of a repeated hour already behind us
        if instant + duration > window_end:
            return
        yield instant


def _minutes(value: time) -> int:
    if value.tzinfo is not None or value.second or value.microsecond:
        raise ValueError("working hours are naive local times in whole minutes.")
    return value.hour * 60 + value.minute
