"""Render bookings as iCalendar text: pure functions of plain values, no app or database.

The booking service renders one VEVENT per booking change (``render_vevent``) and stores
the text; a feed request then only joins stored text (``feed``/``build_calendar``), with
VTIMEZONE blocks cached per zone and span of years.

Decisions clients rely on:

- DTSTART/DTEND carry ``TZID=<booking timezone>`` and the calendar carries a matching
  VTIMEZONE covering every year the events touch. A booking in UTC (``UTC``, ``Etc/UTC``
  and aliases) is written in RFC 5545's UTC form (``...Z``) and needs no VTIMEZONE
  (RFC 5545 3.2.19); inventing a zero-offset VTIMEZONE only invites clients to treat
  ``TZID=UTC`` in their own ways.
- A wall time that occurs twice in the booking's zone (the repeated hour when clocks go
  back) is written in UTC form instead: a TZID cannot name the second pass, and clients
  disagree about the first (vobject reads it as the second).
- VTIMEZONEs are built from the tz database's exact transitions (yearly RRULEs where the
  rule holds, RDATEs otherwise), with onsets in TZOFFSETFROM time per RFC 5545 3.6.5.
- DTSTAMP, CREATED and LAST-MODIFIED are always UTC, as RFC 5545 requires.
- An attendee without an email address (the partner view) keeps its name (``CN``) with a
  ``urn:uuid:`` calendar address, which is a valid CAL-ADDRESS URI that every parser we
  test accepts and that no client can try to mail. ``RSVP`` is then ``FALSE``: a reply has
  nowhere to go.
- ORGANIZER is written only with an email address. Invites (iTIP REQUEST/CANCEL) require
  one; feeds must carry no contact addresses, so feed events are rendered without it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vText,
)

__all__ = [
    "Attendee",
    "EventData",
    "build_calendar",
    "feed",
    "invite",
    "render_vevent",
    "render_vtimezone",
    "timezone_spans",
    "vtimezone_for_years",
]

PRODID = "-//Boardroom//Boardroom API//EN"
CRLF = "\r\n"
END_VCALENDAR = "END:VCALENDAR\r\n"
END_VCALENDAR_BYTES = END_VCALENDAR.encode("ascii")

STATUSES = frozenset({"TENTATIVE", "CONFIRMED", "CANCELLED"})
ROLES = frozenset({"CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT"})
PARTSTATS = frozenset({"NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"})
INVITE_METHODS = frozenset({"REQUEST", "CANCEL"})

# Names whose zone is UTC itself; these are written as "...Z" without a VTIMEZONE.
UTC_TZIDS = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"}
)

# Namespace for deterministic attendee addresses when neither email nor a UUID id is known.
_ATTENDEE_NAMESPACE = uuid.UUID("5d0c4c1e-8a57-4b8e-9a59-0c6f3b7e2a11")

# C0 controls other than TAB and LF are not allowed in iCalendar TEXT (RFC 5545 3.3.11).
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# Finds "DTSTART;TZID=Europe/London:2026..." in unfolded VEVENT text.
_TZID_YEAR = re.compile(
    r"^(?:DTSTART|DTEND|RECURRENCE-ID|RDATE|EXDATE)[^:\r\n]*?;TZID=\"?([^\";:]+)\"?[^:\r\n]*:(\d{4})",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str | None  # None: named without an address (partner view)
    role: str  # "CHAIR" | "REQ-PARTICIPANT" | "OPT-PARTICIPANT"
    partstat: str = "NEEDS-ACTION"
    rsvp: bool = True
    id: str | None = None  # stable id of the speaker/attendee; names the urn:uuid address


@dataclass(frozen=True)
class EventData:
    uid: str  # stable per booking, e.g. "<booking-id>@boardroom"
    sequence: int
    starts_at: datetime  # aware, any zone
    ends_at: datetime
    timezone: str  # IANA name; DTSTART/DTEND are written in this zone
    summary: str
    description: str  # composed by the caller
    location: str | None
    url: str | None
    status: str  # "TENTATIVE" | "CONFIRMED" | "CANCELLED"
    dtstamp: datetime  # aware
    last_modified: datetime  # aware
    created: datetime | None = None
    organizer_email: str | None = None
    organizer_name: str | None = None
    attendees: tuple[Attendee, ...] = ()
    categories: tuple[str, ...] = ()


# --- VEVENT -------------------------------------------------------------------------


def render_vevent(event: EventData) -> str:
    """Return one ``BEGIN:VEVENT ... END:VEVENT`` block, CRLF-terminated and folded."""
    zone = _zone(event.timezone)
    starts_at = _wall_time(_aware(event.starts_at, "starts_at"), zone)
    ends_at = _wall_time(_aware(event.ends_at, "ends_at"), zone)
    if ends_at < starts_at:
        raise ValueError("ends_at is before starts_at")
    if event.status not in STATUSES:
        raise ValueError(f"unknown status {event.status!r}")
    if event.sequence < 0:
        raise ValueError("sequence must not be negative")

    vevent = Event()
    vevent.add("UID", event.uid)
    vevent.add("SEQUENCE", event.sequence)
    vevent.add("DTSTAMP", _utc(event.dtstamp, "dtstamp"))
    vevent.add("DTSTART", starts_at)
    vevent.add("DTEND", ends_at)
    vevent.add("STATUS", event.status)
    vevent.add("SUMMARY", vText(_clean_text(event.summary)))
    if event.description:
        vevent.add("DESCRIPTION", vText(_clean_text(event.description)))
    if event.location:
        vevent.add("LOCATION", vText(_clean_text(event.location)))
    if event.url:
        vevent.add("URL", event.url)
    if event.categories:
        vevent.add("CATEGORIES", [_clean_text(c) for c in event.categories])
    if event.created is not None:
        vevent.add("CREATED", _utc(event.created, "created"))
    vevent.add("LAST-MODIFIED", _utc(event.last_modified, "last_modified"))
    if event.organizer_email:
        organizer = vCalAddress(f"mailto:{event.organizer_email}")
        if event.organizer_name:
            organizer.params["CN"] = _clean_param(event.organizer_name)
        vevent.add("ORGANIZER", organizer)
    for attendee in event.attendees:
        vevent.add("ATTENDEE", _attendee(attendee))
    # Insertion order keeps UID first, which makes stored text easy to read.
    return vevent.to_ical(sorted=False).decode("utf-8")


def _attendee(attendee: Attendee) -> vCalAddress:
    if attendee.role not in ROLES:
        raise ValueError(f"unknown attendee role {attendee.role!r}")
    if attendee.partstat not in PARTSTATS:
        raise ValueError(f"unknown attendee partstat {attendee.partstat!r}")
    if attendee.email:
        address = vCalAddress(f"mailto:{attendee.email}")
        rsvp = attendee.rsvp
    else:
        address = vCalAddress(f"urn:uuid:{_attendee_uuid(attendee)}")
        rsvp = False
    address.params["CUTYPE"] = "INDIVIDUAL"
    address.params["ROLE"] = attendee.role
    address.params["PARTSTAT"] = attendee.partstat
    address.params["RSVP"] = "TRUE" if rsvp else "FALSE"
    if attendee.name:
        address.params["CN"] = _clean_param(attendee.name)
    return address


def _attendee_uuid(attendee: Attendee) -> uuid.UUID:
    if attendee.id:
        try:
            return uuid.UUID(attendee.id)
        except ValueError:
            return uuid.uuid5(_ATTENDEE_NAMESPACE, f"id:{attendee.id}")
    return uuid.uuid5(_ATTENDEE_NAMESPACE, f"name:{attendee.name}")


# --- VTIMEZONE ----------------------------------------------------------------------


def render_vtimezone(tzid: str, start: datetime, end: datetime) -> str:
    """Return a VTIMEZONE for ``tzid`` covering ``start``..``end`` ('' for UTC)."""
    zone = _zone(tzid)
    first = _aware(start, "start").astimezone(zone).year
    last = _aware(end, "end").astimezone(zone).year
    return vtimezone_for_years(tzid, min(first, last), max(first, last))


@lru_cache(maxsize=512)
def vtimezone_for_years(tzid: str, first_year: int, last_year: int) -> str:
    """Return a VTIMEZONE for ``tzid`` valid from 1 January ``first_year`` to the end of
    ``last_year`` (local time), or '' for UTC. Cached: computing one takes milliseconds."""
    if tzid in UTC_TZIDS:
        return ""
    if first_year > last_year:
        raise ValueError("first_year is after last_year")
    return _vtimezone(tzid, first_year, last_year).to_ical(sorted=False).decode("utf-8")


def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    # Not icalendar's Timezone.from_tzinfo: in 7.3 it dates a spring-forward onset by the
    # wall time after the change (02:00 for London's 01:00 GMT), so by RFC 5545 3.6.5,
    # which reads DTSTART in TZOFFSETFROM time, the change comes an hour late.
    zone = _zone(tzid)
    begin = datetime(first_year, 1, 1, tzinfo=zone).astimezone(dt_timezone.utc)
    end = datetime(last_year + 1, 1, 1, tzinfo=zone).astimezone(dt_timezone.utc)
    first = _observance_at(begin, zone)
    # (offset from, offset to, tzname, is_dst) -> local onsets, in TZOFFSETFROM time
    groups: dict[tuple[timedelta, timedelta, str, bool], list[datetime]] = {
        (first[0], first[0], first[1], first[2]): [(begin + first[0]).replace(tzinfo=None)]
    }
    for onset, before, after in _transitions(zone, begin, end):
        key = (before[0], after[0], after[1], after[2])
        groups.setdefault(key, []).append((onset + before[0]).replace(tzinfo=None))

    component = Timezone()
    component.add("TZID", tzid)
    for (offset_from, offset_to, tzname, is_dst), onsets in groups.items():
        singles: list[datetime] = []
        for run in _yearly_runs(onsets):
            if len(run) < 2:
                singles.extend(run)
                continue
            rule = _yearly_rule(run)
            if run[-1].year < last_year:  # the rule stopped before the end of the span
                rule["UNTIL"] = (run[-1] - offset_from).replace(tzinfo=dt_timezone.utc)
            component.add_component(
                _observance(is_dst, offset_from, offset_to, tzname, run[0], rule=rule)
            )
        if singles:
            component.add_component(
                _observance(is_dst, offset_from, offset_to, tzname, singles[0], singles[1:])
            )
    return component


def _observance_at(instant: datetime, zone: ZoneInfo) -> tuple[timedelta, str, bool]:
    local = instant.astimezone(zone)
    offset = local.utcoffset()
    return offset, local.tzname() or _format_offset(offset), bool(local.dst())


def _transitions(zone: ZoneInfo, begin: datetime, end: datetime):
    """Yield (UTC instant, observance before, observance after) for each change."""
    step = timedelta(hours=6)  # shorter than any interval between two real changes
    current, state = begin, _observance_at(begin, zone)
    while current < end:
        probe = min(current + step, end)
        probe_state = _observance_at(probe, zone)
        if probe_state == state:
            current = probe
            continue
        low, high = current, probe  # bisect to the second
        while high - low > timedelta(seconds=1):
            middle = low + (high - low) / 2
            middle = middle.replace(microsecond=0)
            if _observance_at(middle, zone) == state:
                low = middle
            else:
                high = middle
        after = _observance_at(high, zone)
        yield high, state, after
        current, state = high, after


def _yearly_runs(onsets: list[datetime]) -> list[list[datetime]]:
    """Split onsets into runs of consecutive years that one yearly RRULE can describe."""
    runs: list[list[datetime]] = []
    for onset in sorted(onsets):
        run = runs[-1] if runs else None
        if run and onset.year == run[-1].year + 1 and _byday(run + [onset]) is not None:
            run.append(onset)
        else:
            runs.append([onset])
    return runs


def _byday(onsets: list[datetime]) -> str | None:
    """The BYDAY ("-1SU", "2SU") shared by every onset, or None."""
    head = onsets[0]
    if any(
        (o.month, o.time(), o.weekday()) != (head.month, head.time(), head.weekday())
        for o in onsets
    ):
        return None
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[head.weekday()]
    if all((o + timedelta(days=7)).month != o.month for o in onsets):
        return f"-1{weekday}"
    nths = {(o.day - 1) // 7 + 1 for o in onsets}
    return f"{nths.pop()}{weekday}" if len(nths) == 1 else None


def _yearly_rule(run: list[datetime]) -> dict:
    return {"FREQ": "YEARLY", "BYMONTH": run[0].month, "BYDAY": _byday(run)}


def _observance(
    is_dst: bool,
    offset_from: timedelta,
    offset_to: timedelta,
    tzname: str,
    dtstart: datetime,
    rdates: Sequence[datetime] = (),
    rule: dict | None = None,
):
    observance = TimezoneDaylight() if is_dst else TimezoneStandard()
    observance.add("DTSTART", dtstart)
    if rule:
        observance.add("RRULE", rule)
    if rdates:
        observance.add("RDATE", list(rdates))
    observance.add("TZOFFSETFROM", offset_from)
    observance.add("TZOFFSETTO", offset_to)
    observance.add("TZNAME", tzname)
    return observance


def _format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def timezone_spans(events: Iterable[EventData]) -> dict[str, tuple[datetime, datetime]]:
    """Map each event timezone to the earliest start and latest end using it."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for event in events:
        low, high = spans.get(event.timezone, (event.starts_at, event.ends_at))
        spans[event.timezone] = (min(low, event.starts_at), max(high, event.ends_at))
    return spans


# --- VCALENDAR ----------------------------------------------------------------------


def build_calendar(
    vevents: Iterable[str],
    tzids: Iterable[str] | Mapping[str, tuple[datetime, datetime]],
    *,
    method: str | None,
    name: str | None = None,
    timezone: str | None = None,
    refresh: str | None = "PT1H",
    ttl: str | None = "PT1H",
    prodid: str = PRODID,
) -> bytes:
    """Join a VCALENDAR from pre-rendered VEVENT texts, encoded UTF-8.

    ``tzids`` maps each TZID used by the events to the (earliest, latest) datetimes it must
    cover. Given only names, the years are read from the events' DTSTART/DTEND lines,
    which costs a scan of the text; pass the spans when they are known.
    """
    vevents = list(vevents)
    spans = _year_spans(vevents, tzids)
    head = [_calendar_header(prodid, method, name, timezone, refresh, ttl)]
    for tzid in sorted(spans):
        first_year, last_year = spans[tzid]
        head.append(vtimezone_for_years(tzid, first_year, last_year))
    # Encoded in parts: events are mostly ASCII, which encodes as a plain copy, whereas joined with
    # a header holding one non-ASCII character (a dash in the calendar name) the whole text would
    # be transcoded character by character. Same bytes either way.
    return b"".join(("".join(head).encode("utf-8"), "".join(vevents).encode("utf-8"), END_VCALENDAR_BYTES))


def invite(event: EventData, *, method: str = "REQUEST") -> bytes:
    """Return a single-event iTIP calendar: METHOD:REQUEST, or METHOD:CANCEL."""
    if method not in INVITE_METHODS:
        raise ValueError(f"unknown invite method {method!r}")
    if (method == "CANCEL") != (event.status == "CANCELLED"):
        raise ValueError("METHOD:CANCEL goes with STATUS:CANCELLED and only with it")
    if not event.organizer_email:
        raise ValueError("an invite needs an organizer email (RFC 5546)")
    return build_calendar(
        [render_vevent(event)],
        {event.timezone: (event.starts_at, event.ends_at)},
        method=method,
        refresh=None,
        ttl=None,
    )


def feed(
    vevents: Iterable[str],
    tzids: Iterable[str] | Mapping[str, tuple[datetime, datetime]],
    *,
    name: str,
    timezone: str | None = None,
    refresh: str | None = "PT1H",
    ttl: str | None = "PT1H",
    prodid: str = PRODID,
) -> bytes:
    """Return a subscribable METHOD:PUBLISH calendar of pre-rendered VEVENTs.

    The VEVENTs must have been rendered without attendees or organizer email: a feed
    carries no contact addresses.
    """
    return build_calendar(
        vevents,
        tzids,
        method="PUBLISH",
        name=name,
        timezone=timezone,
        refresh=refresh,
        ttl=ttl,
        prodid=prodid,
    )


@lru_cache(maxsize=256)
def _calendar_header(
    prodid: str,
    method: str | None,
    name: str | None,
    timezone: str | None,
    refresh: str | None,
    ttl: str | None,
) -> str:
    # Rendered by icalendar so that names with commas, semicolons, newlines or emoji are
    # escaped and folded like any other TEXT value.
    calendar = Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", prodid)
    calendar.add("CALSCALE", "GREGORIAN")
    if method:
        calendar.add("METHOD", method)
    if name:
        calendar.add("X-WR-CALNAME", _calendar_name(name))
    if timezone:
        _zone(timezone)
        calendar.add("X-WR-TIMEZONE", vText(timezone))
    if refresh:
        calendar.add(
            "REFRESH-INTERVAL", vDuration(_duration(refresh)), parameters={"VALUE": "DURATION"}
        )
    if ttl:
        calendar.add("X-PUBLISHED-TTL", vDuration(_duration(ttl)))
    text = calendar.to_ical(sorted=False).decode("utf-8")
    if not text.endswith(END_VCALENDAR):  # pragma: no cover - icalendar contract
        raise RuntimeError("unexpected VCALENDAR serialisation")
    return text[: -len(END_VCALENDAR)]


def _year_spans(
    vevents: list[str], tzids: Iterable[str] | Mapping[str, tuple[datetime, datetime]]
) -> dict[str, tuple[int, int]]:
    spans: dict[str, tuple[int, int]] = {}
    if isinstance(tzids, Mapping):
        for tzid, (start, end) in tzids.items():
            zone = _zone(tzid)
            years = (
                _aware(start, "start").astimezone(zone).year,
                _aware(end, "end").astimezone(zone).year,
            )
            spans[tzid] = (min(years), max(years))
        return spans
    wanted = set(tzids)
    for text in vevents:
        for match in _TZID_YEAR.finditer(text.replace("\r\n ", "").replace("\r\n\t", "")):
            tzid, year = match.group(1), int(match.group(2))
            if tzid not in wanted:
                continue
            # The year is already local to tzid, which is what the VTIMEZONE must cover.
            low, high = spans.get(tzid, (year, year))
            spans[tzid] = (min(low, year), max(high, year))
    return spans


# --- helpers ------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _zone(tzid: str) -> ZoneInfo:
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {tzid!r}") from exc


def _aware(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{field} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field} must be timezone-aware")
    return value


def _wall_time(value: datetime, zone: ZoneInfo) -> datetime:
    """The instant in ``zone``, or in UTC when that zone's wall time would be ambiguous.

    A TZID time that occurs twice (01:30 on the night the clocks go back) means its
    first occurrence (RFC 5545 3.3.5), so the second can only be written in UTC; and
    clients disagree even about the first (vobject picks the second), so both are.
    """
    local = value.astimezone(zone)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return value.astimezone(dt_timezone.utc)
    return local


def _utc(value: datetime, field: str) -> datetime:
    return _aware(value, field).astimezone(dt_timezone.utc)


def _clean_text(value: str) -> str:
    # Normalise line breaks so a CRLF in user text becomes one escaped "\n".
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub("", value)


def _clean_param(value: str) -> str:
    # Parameter values cannot hold line breaks (RFC 6868 could, but clients disagree).
    return _CONTROL_CHARS.sub("", " ".join(value.splitlines())).replace("\t", " ")


def _calendar_name(name: str) -> vText:
    # X-WR-CALNAME is TEXT (RFC 5545 3.8.8.2), so commas and semicolons are escaped. Not
    # every reader unescapes it (ical.js, icalendar and ical hand back the raw text), but
    # readers that split on a bare comma (vobject, some iOS versions) would cut the
    # name short; a stray backslash is the lesser harm. A name is one line.
    return vText(" ".join(_clean_text(name).splitlines()))


def _duration(value: str) -> timedelta:
    parsed = vDuration.from_ical(value)
    if not isinstance(parsed, timedelta) or parsed <= timedelta(0):
        raise ValueError(f"not a positive duration: {value!r}")
    return parsed
