"""Speaker availability as plain interval arithmetic over timezone-aware UTC datetimes.

An interval is a half-open ``(start, end)`` pair: ``[09:00, 10:00)`` and ``[10:00, 11:00)``
touch but do not overlap, so back-to-back bookings are allowed.

Weekly windows are wall-clock times in the speaker's IANA zone. Each window is turned into
one contiguous UTC interval per matching local day, and each boundary is *the first moment
the speaker's clock shows that time*:

- spring forward (a skipped hour): a boundary inside the gap becomes the moment the clocks
  jump, so a window covering the missing hour is that much shorter in real time and a window
  wholly inside the gap is empty;
- fall back (a repeated hour): a boundary inside the repeated hour is its first occurrence,
  so the repeated hour is counted once — no window yields two intervals or a duplicate. A
  window spanning the whole change (00:00-03:00 on a fall-back night) stays one contiguous
  interval and so lasts an hour longer in real time, as it would for the person keeping it;
- ``24:00`` (minute 1440) is the next local midnight, by the same rule.

Weekly windows on the same weekday must not overlap (``validate_weekly`` rejects them, so
what a client PUTs is what it GETs back); windows that touch are fine and merge, including
across midnight (Monday 22:00-24:00 plus Tuesday 00:00-06:00 is one overnight span).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 1440
_MAX = datetime.max.replace(tzinfo=UTC)

Interval = tuple[datetime, datetime]

_HHMM = re.compile(r"(\d{2}):(\d{2})")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class WeeklyWindow:
    """A recurring window of wall-clock time on one weekday (0 = Monday)."""

    weekday: int
    start_minute: int
    end_minute: int

    @classmethod
    def parse(cls, weekday: int, start_time: str, end_time: str) -> WeeklyWindow:
        """Build a window from the API's ``"HH:MM"`` strings; raises ValueError."""
        return cls(weekday, parse_hhmm(start_time), parse_hhmm(end_time, end=True))

    @property
    def start_time(self) -> str:
        return format_hhmm(self.start_minute)

    @property
    def end_time(self) -> str:
        return format_hhmm(self.end_minute)


@dataclass(frozen=True)
class AvailabilityException:
    """A one-off change to a speaker's week: extra time, or time away (which always wins)."""

    starts_at: datetime
    ends_at: datetime
    available: bool


# --- parsing and validation for the API layer -------------------------------------------


def parse_hhmm(value: str, *, end: bool = False) -> int:
    """Minutes since midnight for ``"HH:MM"``; ``"24:00"`` is allowed only as an end time."""
    if not isinstance(value, str):
        raise ValueError("Time must be a string in HH:MM format.")
    match = _HHMM.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a time in HH:MM format (for example 09:30).")
    hours, minutes = int(match[1]), int(match[2])
    if hours == 24 and minutes == 0:
        if not end:
            raise ValueError("24:00 is only allowed as an end time.")
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise ValueError(f"{value!r} is not a time between 00:00 and 24:00.")
    return hours * 60 + minutes


def format_hhmm(minutes: int) -> str:
    """``"HH:MM"`` for minutes since midnight; 1440 is ``"24:00"``."""
    if not 0 <= minutes <= MINUTES_PER_DAY:
        raise ValueError(f"{minutes} is not between 0 and {MINUTES_PER_DAY} minutes.")
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def is_valid_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA zone zoneinfo can load (``"Europe/London"``, ``"UTC"``)."""
    if not isinstance(name, str) or not name or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _window_errors(window: WeeklyWindow) -> list[str]:
    errors = []
    if not (isinstance(window.weekday, int) and 0 <= window.weekday <= 6):
        errors.append(f"weekday must be 0 (Monday) to 6 (Sunday), not {window.weekday!r}.")
    if not (isinstance(window.start_minute, int) and 0 <= window.start_minute < MINUTES_PER_DAY):
        errors.append("start_time must be between 00:00 and 23:59.")
    if not (isinstance(window.end_minute, int) and 0 < window.end_minute <= MINUTES_PER_DAY):
        errors.append("end_time must be between 00:01 and 24:00.")
    if not errors and window.start_minute >= window.end_minute:
        errors.append(
            f"end_time {format_hhmm(window.end_minute)} must be after start_time "
            f"{format_hhmm(window.start_minute)}; a window cannot cross midnight, use two."
        )
    return errors


def validate_weekly(windows: Sequence[WeeklyWindow]) -> list[str]:
    """Error messages for a weekly pattern, each prefixed ``weekly[i]: ``; empty when valid.

    Windows that overlap on the same weekday are rejected rather than silently merged;
    touching windows (09:00-12:00 and 12:00-17:00) are accepted.
    """
    errors: list[str] = []
    valid: list[tuple[int, WeeklyWindow]] = []
    for index, window in enumerate(windows):
        problems = _window_errors(window)
        errors.extend(f"weekly[{index}]: {problem}" for problem in problems)
        if not problems:
            valid.append((index, window))
    valid.sort(key=lambda item: (item[1].weekday, item[1].start_minute, item[1].end_minute))
    # Compare each window with the one reaching furthest so far on its weekday, so a long
    # window is caught overlapping every short one inside it, not just the next.
    reach: tuple[int, WeeklyWindow] | None = None
    for index, window in valid:
        if reach is not None and reach[1].weekday == window.weekday:
            if window.start_minute < reach[1].end_minute:
                errors.append(
                    f"weekly[{index}]: {_WEEKDAY_NAMES[window.weekday]} {window.start_time}-"
                    f"{window.end_time} overlaps weekly[{reach[0]}] "
                    f"{reach[1].start_time}-{reach[1].end_time}."
                )
            if window.end_minute <= reach[1].end_minute:
                continue
        reach = (index, window)
    return errors


def validate_exceptions(exceptions: Sequence[AvailabilityException]) -> list[str]:
    """Error messages for exceptions, each prefixed ``exceptions[i]: ``; empty when valid."""
    errors = []
    for index, exception in enumerate(exceptions):
        if not (_is_aware(exception.starts_at) and _is_aware(exception.ends_at)):
            errors.append(f"exceptions[{index}]: starts_at and ends_at need a UTC offset.")
        elif exception.starts_at >= exception.ends_at:
            errors.append(f"exceptions[{index}]: ends_at must be after starts_at.")
    return errors


# --- interval arithmetic ------------------------------------------------------------------


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Whether two half-open intervals share any instant; back-to-back ones do not."""
    return a_start < b_end and b_start < a_end


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of ``intervals``: empty ones dropped, overlapping and touching joined."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(intervals: Iterable[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """The parts of ``intervals`` not covered by any of ``busy``, merged and sorted."""
    result: list[Interval] = []
    remove = merge(busy)
    j = 0
    for start, end in merge(intervals):
        # Busy intervals ending before this one can be skipped for good: input is sorted.
        while j < len(remove) and remove[j][1] <= start:
            j += 1
        k = j
        while k < len(remove) and remove[k][0] < end:
            if remove[k][0] > start:
                result.append((start, remove[k][0]))
            start = max(start, remove[k][1])
            k += 1
        if start < end:
            result.append((start, end))
    return result


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """Instants in both ``a`` and ``b``, merged and sorted."""
    left, right = merge(a), merge(b)
    result: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return result


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """``intervals`` cut to ``[start, end)``, merged and sorted."""
    return intersect(intervals, [(start, end)])


def covers(intervals: Sequence[Interval], start: datetime, end: datetime) -> bool:
    """Whether ``[start, end)`` lies wholly inside the union of ``intervals``."""
    if start >= end:
        return True
    merged = merge(intervals)
    index = bisect_right(merged, (start, _MAX)) - 1
    return index >= 0 and merged[index][0] <= start and end <= merged[index][1]


# --- wall clock to UTC --------------------------------------------------------------------


def wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant at which a clock in ``zone`` shows ``wall`` (naive) or later.

    An ordinary time maps to itself; a repeated time to its first occurrence; a time the
    clocks skip to the moment they skip.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # ``wall`` is in a gap: fold=0 reads it with the offset before the change and fold=1
    # with the offset after, which lands on either side of the change. Find it by halving.
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = int(min(first, other).timestamp()), math.ceil(max(first, other).timestamp())
    before = datetime.fromtimestamp(low, UTC).astimezone(zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def local_day_bounds(day: date, start_minute: int, end_minute: int, zone: ZoneInfo) -> Interval:
    """The UTC interval a wall-clock span on local ``day`` covers (1440 = next midnight)."""
    midnight = datetime(day.year, day.month, day.day)
    return (
        wall_to_utc(midnight + timedelta(minutes=start_minute), zone),
        wall_to_utc(midnight + timedelta(minutes=end_minute), zone),
    )


def local_dates(zone: ZoneInfo, start: datetime, end: datetime) -> Iterable[date]:
    """Every local date in ``zone`` that may touch ``[start, end)``, with a day's margin."""
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


def _is_aware(value: datetime) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def as_utc_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """``(start, end)`` converted to UTC; ValueError if either is naive."""
    if not (_is_aware(start) and _is_aware(end)):
        raise ValueError("start and end must be timezone-aware datetimes.")
    return start.astimezone(UTC), end.astimezone(UTC)


# --- the speaker's availability -----------------------------------------------------------


def weekly_intervals(
    tz: str, weekly: Sequence[WeeklyWindow], start: datetime, end: datetime
) -> list[Interval]:
    """The weekly pattern expanded through ``tz`` into UTC intervals inside ``[start, end)``."""
    start, end = as_utc_range(start, end)
    for window in weekly:
        problems = _window_errors(window)
        if problems:
            raise ValueError(f"Invalid weekly window {window}: {' '.join(problems)}")
    zone = ZoneInfo(tz)
    by_weekday: dict[int, list[WeeklyWindow]] = {}
    for window in weekly:
        by_weekday.setdefault(window.weekday, []).append(window)
    expanded: list[Interval] = []
    for day in local_dates(zone, start, end):
        for window in by_weekday.get(day.weekday(), ()):
            expanded.append(local_day_bounds(day, window.start_minute, window.end_minute, zone))
    return clip(expanded, start, end)


def available_intervals(
    tz: str,
    weekly: Sequence[WeeklyWindow],
    exceptions: Sequence[AvailabilityException],
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """A speaker's available time inside ``[start, end)``, in UTC, merged and sorted.

    No weekly windows means always available. ``available: true`` exceptions are added to
    the weekly pattern, then ``available: false`` exceptions are removed from the result,
    so time away wins over everything else.
    """
    start, end = as_utc_range(start, end)
    if start >= end:
        return []
    if weekly:
        base = weekly_intervals(tz, weekly, start, end)
    else:
        ZoneInfo(tz)  # an unknown zone is an error even when it would not be used
        base = [(start, end)]
    extra = [
        (e.starts_at.astimezone(UTC), e.ends_at.astimezone(UTC)) for e in exceptions if e.available
    ]
    away = [
        (e.starts_at.astimezone(UTC), e.ends_at.astimezone(UTC))
        for e in exceptions
        if not e.available
    ]
    return subtract(clip(base + extra, start, end), away)
