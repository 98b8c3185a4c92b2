"""Calendar rendering: every .ics we produce must read the same in four independent parsers.

Parsers: Python's icalendar, vobject and ical (allenporter), and Mozilla's ical.js under
Node (tests/js). ical.js and vobject take offsets from the VTIMEZONE blocks in the file, so
they check our VTIMEZONEs; icalendar and ical resolve TZIDs by name, so they check that the
wall times and TZIDs are right. ical.js runs with TZ set to an odd zone so that a time it
could not place (floating) cannot pass by accident.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import os
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
import vobject.icalendar
from ical.calendar_stream import IcsCalendarStream

from api.calendar.render import (
    Attendee,
    EventData,
    build_calendar,
    feed,
    invite,
    render_vevent,
    render_vtimezone,
    timezone_spans,
    vtimezone_for_years,
)

UTC = timezone.utc
JS_DIR = Path(__file__).resolve().parents[1] / "js"
WELSH_PLACE = "Ysbyty Gwynedd – Bwrdd Iechyd Prifysgol Betsi Cadwaladr"
WELSH_PERSON = "Siân Llŷr"
EMOJI = "🎉👩🏽‍⚕️🏴󠁧󠁢󠁷󠁬󠁳󠁿"
TRICKY_TEXT = "Agenda: one, two; three\nLine two\\with backslash\n\n– end, really; done"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_event(starts_at: datetime, ends_at: datetime, tz: str = "Europe/London", **kw):
    values = {
        "uid": f"{starts_at:%Y%m%dT%H%M%S}-{tz.replace('/', '-')}@boardroom",
        "sequence": 0,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": tz,
        "summary": "Board development session",
        "description": "Session for the board.",
        "location": "Committee room 1",
        "url": "https://boardroom.example/bookings/1",
        "status": "CONFIRMED",
        "dtstamp": utc(2026, 1, 5, 9, 0),
        "last_modified": utc(2026, 1, 5, 9, 0),
        "created": utc(2026, 1, 2, 9, 0),
    }
    values.update(kw)
    return EventData(**values)


def invite_event(**kw) -> EventData:
    values = {
        "organizer_email": "programme@boardroom.example",
        "organizer_name": "Board Development Programme",
        "attendees": (
            Attendee(WELSH_PERSON, "sian@example.nhs.uk", "CHAIR", "ACCEPTED", False, "a1"),
            Attendee("Dr Ada Jones, MBE", "ada@example.nhs.uk", "REQ-PARTICIPANT"),
            Attendee("Owain Glyndŵr", None, "OPT-PARTICIPANT", id=None),
        ),
    }
    values.update(kw)
    starts_at = values.pop("starts_at", utc(2026, 3, 29, 0, 30))
    ends_at = values.pop("ends_at", utc(2026, 3, 29, 2, 30))
    return make_event(starts_at, ends_at, **values)


# --- the four parsers ----------------------------------------------------------------


def _iso(value: datetime) -> str:
    assert isinstance(value, datetime), value
    assert value.tzinfo is not None and value.utcoffset() is not None, f"floating: {value}"
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_icalendar(data: bytes) -> list[dict]:
    calendar = icalendar.Calendar.from_ical(data)
    return [
        {
            "uid": str(event["UID"]),
            "sequence": int(event["SEQUENCE"]),
            "status": str(event["STATUS"]),
            "summary": str(event["SUMMARY"]),
            "description": str(event.get("DESCRIPTION", "")),
            "location": str(event.get("LOCATION", "")),
            "start_utc": _iso(event.start),
            "end_utc": _iso(event.end),
        }
        for event in calendar.walk("VEVENT")
    ]


def _forget_vobject_zones(data: bytes) -> None:
    # vobject keeps the first VTIMEZONE it ever saw per TZID, process-wide, and falls
    # back to pytz by name; forget earlier ones so this file's own VTIMEZONE is used.
    registry = vars(vobject.icalendar)["__tzidMap"]
    for tzid in icalendar.Calendar.from_ical(data).get_used_tzids() | {
        tz.tz_name for tz in icalendar.Calendar.from_ical(data).timezones
    }:
        if tzid != "UTC":
            registry.pop(tzid, None)


def parse_vobject(data: bytes) -> list[dict]:
    _forget_vobject_zones(data)
    calendar = vobject.readOne(data.decode("utf-8"))
    events = []
    for event in getattr(calendar, "vevent_list", []):
        events.append(
            {
                "uid": event.uid.value,
                "sequence": int(event.sequence.value),
                "status": event.status.value,
                "summary": event.summary.value,
                "description": event.description.value if hasattr(event, "description") else "",
                "location": event.location.value if hasattr(event, "location") else "",
                "start_utc": _iso(event.dtstart.value),
                "end_utc": _iso(event.dtend.value),
            }
        )
    return events


def parse_ical(data: bytes) -> list[dict]:
    calendar = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    return [
        {
            "uid": event.uid,
            "sequence": event.sequence,
            "status": str(getattr(event.status, "value", event.status)),
            "summary": event.summary,
            "description": event.description or "",
            "location": event.location or "",
            "start_utc": _iso(event.dtstart),
            "end_utc": _iso(event.dtend),
        }
        for event in calendar.events
    ]


@pytest.fixture(scope="session")
def icaljs() -> Path:
    node = shutil.which("node")
    assert node, "Node.js is required: the spec promises ical.js reads our feeds"
    if not (JS_DIR / "node_modules" / "ical.js").is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is required to install ical.js (cd tests/js && npm ci)"
        command = "ci" if (JS_DIR / "package-lock.json").exists() else "install"
        subprocess.run(
            [npm, command, "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=300
        )
    return JS_DIR / "parse_ics.mjs"


def run_icaljs(script: Path, data: bytes) -> list[dict]:
    result = subprocess.run(
        ["node", str(script)],
        input=data,
        capture_output=True,
        timeout=60,
        env={**os.environ, "TZ": "Pacific/Chatham"},
    )
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


@pytest.fixture
def parse_all(icaljs):
    """Parse with all four parsers; return {parser: [event dict, ...]}."""

    def parse(data: bytes) -> dict[str, list[dict]]:
        js_events = run_icaljs(icaljs, data)
        return {
            "icalendar": parse_icalendar(data),
            "vobject": parse_vobject(data),
            "ical": parse_ical(data),
            "ical.js": [
                {
                    key: event[key] or "" if key in ("description", "location") else event[key]
                    for key in (
                        "uid",
                        "sequence",
                        "status",
                        "summary",
                        "description",
                        "location",
                        "start_utc",
                        "end_utc",
                    )
                }
                for event in js_events
            ],
            "_ical.js raw": js_events,
        }

    return parse


def expected(event: EventData) -> dict:
    return {
        "uid": event.uid,
        "sequence": event.sequence,
        "status": event.status,
        "summary": event.summary,
        "description": event.description,
        "location": event.location or "",
        "start_utc": _iso(event.starts_at),
        "end_utc": _iso(event.ends_at),
    }


def assert_all_parsers_agree(parsed: dict[str, list[dict]], events: list[EventData]) -> None:
    want = sorted((expected(e) for e in events), key=lambda e: e["uid"])
    for parser, got in parsed.items():
        if parser.startswith("_"):
            continue
        assert sorted(got, key=lambda e: e["uid"]) == want, parser


def assert_well_formed(data: bytes) -> None:
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n")
    lines = data.split(b"\r\n")
    assert lines[-1] == b""
    for line in lines[:-1]:
        assert b"\n" not in line and b"\r" not in line, line
        assert len(line) <= 75, (len(line), line)
        line.decode("utf-8")  # folding never splits a UTF-8 sequence


def unescape_text(raw: str) -> str:
    """RFC 5545 3.3.11 TEXT unescaping (icalendar 7's vText.from_ical keeps escapes)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], raw)


def content_lines(data: bytes) -> list[str]:
    """Unfolded content lines."""
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")


# --- time zones across daylight-saving changes ----------------------------------------

LONDON_DST_EVENTS = [
    # Saturday before clocks go forward, Monday after (BST).
    (utc(2026, 3, 28, 9, 0), utc(2026, 3, 28, 16, 0)),
    (utc(2026, 3, 30, 8, 0), utc(2026, 3, 30, 15, 0)),
    # Straddles 01:00 GMT -> 02:00 BST: 00:30 GMT to 02:30 BST.
    (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30)),
    # Saturday before clocks go back (BST), Monday after (GMT).
    (utc(2026, 10, 24, 8, 0), utc(2026, 10, 24, 15, 0)),
    (utc(2026, 10, 26, 9, 0), utc(2026, 10, 26, 16, 0)),
    # Straddles 02:00 BST -> 01:00 GMT: 01:30 BST to 01:30 GMT, the same wall time twice.
    (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
    # Starts in the repeated hour's second pass (01:15 GMT), which TZID cannot express.
    (utc(2026, 10, 25, 1, 15), utc(2026, 10, 25, 3, 0)),
]


def test_london_either_side_of_both_dst_changes(parse_all):
    events = [make_event(s, e) for s, e in LONDON_DST_EVENTS]
    data = feed(
        [render_vevent(e) for e in events],
        timezone_spans(events),
        name="Europe/London DST",
        timezone="Europe/London",
    )
    assert_well_formed(data)
    assert_all_parsers_agree(parse_all(data), events)

    lines = content_lines(data)
    assert "DTSTART;TZID=Europe/London:20260328T090000" in lines
    assert "DTSTART;TZID=Europe/London:20260330T090000" in lines  # 08:00Z is 09:00 BST
    assert "DTSTART;TZID=Europe/London:20261024T090000" in lines
    assert "DTSTART;TZID=Europe/London:20261026T090000" in lines
    assert "DTEND;TZID=Europe/London:20260329T023000" in lines
    # 01:30 happens twice on 25 October: the second can only be said in UTC, and
    # clients disagree about the first (vobject reads it as the second), so both are.
    assert "DTSTART:20261025T003000Z" in lines
    assert "DTEND:20261025T013000Z" in lines
    assert "DTSTART:20261025T011500Z" in lines


@pytest.mark.parametrize(
    ("tz", "starts_at", "ends_at", "local_start"),
    [
        # Sydney: DST ends 5 April 2026 03:00 AEDT -> 02:00 AEST; 01:00 AEDT to 03:30 AEST.
        ("Australia/Sydney", utc(2026, 4, 4, 14, 0), utc(2026, 4, 4, 17, 30), "20260405T010000"),
        ("Australia/Sydney", utc(2026, 10, 4, 23, 0), utc(2026, 10, 5, 1, 0), "20261005T100000"),
        # New York: DST starts 8 March 2026 02:00 EST -> 03:00 EDT.
        ("America/New_York", utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 8, 0), "20260308T013000"),
        ("America/New_York", utc(2026, 11, 2, 14, 0), utc(2026, 11, 2, 15, 0), "20261102T090000"),
        # Kolkata: +05:30 all year, no DST.
        ("Asia/Kolkata", utc(2026, 6, 1, 4, 0), utc(2026, 6, 1, 5, 45), "20260601T093000"),
    ],
)
def test_other_zones(parse_all, tz, starts_at, ends_at, local_start):
    event = make_event(starts_at, ends_at, tz)
    data = invite(dataclasses.replace(event, organizer_email="programme@boardroom.example"))
    assert_well_formed(data)
    assert_all_parsers_agree(parse_all(data), [event])
    assert f"DTSTART;TZID={tz}:{local_start}" in content_lines(data)
    assert f"TZID:{tz}" in content_lines(data)


@pytest.mark.parametrize("spans_known", [True, False])
def test_multi_year_feed_covers_old_transitions(parse_all, spans_known):
    events = []
    for year in range(2020, 2028):
        for tz in ("Europe/London", "America/New_York", "Australia/Sydney"):
            events.append(make_event(utc(year, 1, 15, 10), utc(year, 1, 15, 12), tz))
            events.append(make_event(utc(year, 7, 15, 10), utc(year, 7, 15, 12), tz))
            # The days either side of each zone's own changes that year.
            for month, day in ((3, 27), (4, 6), (10, 3), (10, 29), (11, 4)):
                events.append(make_event(utc(year, month, day, 12), utc(year, month, day, 13), tz))
    tzids = timezone_spans(events) if spans_known else {e.timezone for e in events}
    data = feed([render_vevent(e) for e in events], tzids, name="Programme 2020–2027")
    assert_well_formed(data)
    assert_all_parsers_agree(parse_all(data), events)
    calendar = icalendar.Calendar.from_ical(data)
    assert sorted(tz.tz_name for tz in calendar.timezones) == [
        "America/New_York",
        "Australia/Sydney",
        "Europe/London",
    ]


@pytest.mark.parametrize(
    "tzid",
    [
        "Europe/London",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "Europe/Dublin",
        "Pacific/Chatham",
    ],
)
def test_vtimezone_offsets_match_tz_database(tzid):
    """Read back on its own, a VTIMEZONE gives the tz database's offset at every instant.

    icalendar's reading of the STANDARD/DAYLIGHT rules (DTSTART in TZOFFSETFROM time,
    RRULE and RDATE expanded) is the oracle; zoneinfo is the truth.
    """
    component = icalendar.Timezone.from_ical(vtimezone_for_years(tzid, 2020, 2027))
    times, info = component.get_transitions()
    zone = ZoneInfo(tzid)

    def offset_read_back(instant: datetime) -> timedelta:
        index = bisect.bisect_right(times, instant.replace(tzinfo=None)) - 1
        assert index >= 0, f"{instant} is before the VTIMEZONE starts"
        return info[index][0]

    instant = datetime(2020, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(2028, 1, 1, tzinfo=zone).astimezone(UTC)
    changes = 0
    while instant < end:
        step = instant + timedelta(hours=1)  # no zone changes twice within an hour
        offset = instant.astimezone(zone).utcoffset()
        if step.astimezone(zone).utcoffset() != offset:
            changes += 1
            low, high = instant, step  # bisect to the second; check both sides
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) // 2
                low, high = (
                    (middle, high)
                    if middle.astimezone(zone).utcoffset() == offset
                    else (low, middle)
                )
            for probe in (low, high):
                assert offset_read_back(probe) == probe.astimezone(zone).utcoffset(), probe
        assert offset_read_back(instant) == offset, instant
        instant = step
    assert changes == (0 if tzid == "Asia/Kolkata" else 16)


def test_vtimezone_is_cached_and_year_granular():
    a = render_vtimezone("Europe/London", utc(2026, 3, 1), utc(2026, 11, 1))
    b = render_vtimezone("Europe/London", utc(2026, 1, 1, 5), utc(2026, 12, 31, 12))
    assert a is b
    assert a.startswith("BEGIN:VTIMEZONE\r\n") and a.endswith("END:VTIMEZONE\r\n")
    # RFC 5545 3.6.5: an onset is given in the time before the change (01:00 GMT).
    assert "BEGIN:DAYLIGHT\r\nDTSTART:20260329T010000\r\n" in a
    assert "BEGIN:STANDARD\r\nDTSTART:20261025T020000\r\n" in a
    # 31 December 23:30 in New York is already next year in UTC; the local year counts.
    assert render_vtimezone(
        "America/New_York", utc(2026, 6, 1), utc(2027, 1, 1, 4, 30)
    ) is vtimezone_for_years("America/New_York", 2026, 2026)


def test_utc_events_use_utc_form_and_need_no_vtimezone(parse_all):
    event = make_event(utc(2026, 5, 1, 9), utc(2026, 5, 1, 10), "UTC")
    vevent = render_vevent(event)
    assert "DTSTART:20260501T090000Z\r\n" in vevent
    assert render_vtimezone("UTC", event.starts_at, event.ends_at) == ""
    data = feed([vevent], timezone_spans([event]), name="UTC")
    assert b"VTIMEZONE" not in data
    assert_all_parsers_agree(parse_all(data), [event])


# --- invites ---------------------------------------------------------------------------


def test_request_invite_has_organizer_and_attendees(parse_all):
    event = invite_event(sequence=3)
    data = invite(event)
    assert_well_formed(data)
    parsed = parse_all(data)
    assert_all_parsers_agree(parsed, [event])
    lines = content_lines(data)
    assert "METHOD:REQUEST" in lines
    assert "STATUS:CONFIRMED" in lines
    assert "SEQUENCE:3" in lines

    (js_event,) = parsed["_ical.js raw"]
    assert js_event["method"] == "REQUEST"
    assert js_event["organizer"] == {
        "value": "mailto:programme@boardroom.example",
        "cn": "Board Development Programme",
        "role": None,
        "partstat": None,
        "rsvp": None,
    }
    by_name = {a["cn"]: a for a in js_event["attendees"]}
    assert by_name[WELSH_PERSON] == {
        "value": "mailto:sian@example.nhs.uk",
        "cn": WELSH_PERSON,
        "role": "CHAIR",
        "partstat": "ACCEPTED",
        "rsvp": "FALSE",
    }
    assert by_name["Dr Ada Jones, MBE"]["rsvp"] == "TRUE"
    assert by_name["Dr Ada Jones, MBE"]["role"] == "REQ-PARTICIPANT"
    assert by_name["Owain Glyndŵr"]["value"].startswith("urn:uuid:")

    # The same attendees through the Python parsers.
    (ev,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert sorted(a.params["CN"] for a in ev["ATTENDEE"]) == sorted(by_name)
    (vev,) = parse_vobject_component(data).vevent_list
    assert {a.params["CN"][0] for a in vev.attendee_list} == set(by_name)
    (iev,) = IcsCalendarStream.calendar_from_ics(data.decode()).events
    assert {a.common_name for a in iev.attendees} == set(by_name)
    assert iev.organizer.uri == "mailto:programme@boardroom.example"


def parse_vobject_component(data: bytes):
    _forget_vobject_zones(data)
    return vobject.readOne(data.decode("utf-8"))


def test_partner_view_names_attendees_without_addresses(parse_all):
    attendees = (
        Attendee(WELSH_PERSON, None, "CHAIR", id="0b6f7c1e-3d2a-4c1b-9e8f-7a6b5c4d3e2f"),
        Attendee("Dr Ada Jones, MBE", None, "REQ-PARTICIPANT", id="speaker-42"),
    )
    event = invite_event(attendees=attendees)
    data = invite(event)
    assert_well_formed(data)
    parsed = parse_all(data)
    assert_all_parsers_agree(parsed, [event])
    text = data.decode()
    assert "sian@" not in text and "ada@" not in text
    assert text.count("mailto:") == 1  # the programme address only
    (js_event,) = parsed["_ical.js raw"]
    values = {a["cn"]: a["value"] for a in js_event["attendees"]}
    assert values[WELSH_PERSON] == "urn:uuid:0b6f7c1e-3d2a-4c1b-9e8f-7a6b5c4d3e2f"
    assert values["Dr Ada Jones, MBE"].startswith("urn:uuid:")
    assert all(a["rsvp"] == "FALSE" for a in js_event["attendees"])
    # Stable: the same attendee gets the same address on every render.
    assert invite(event) == data


def test_cancelled_invite(parse_all):
    event = invite_event(status="CANCELLED", sequence=7)
    data = invite(event, method="CANCEL")
    assert_well_formed(data)
    parsed = parse_all(data)
    assert_all_parsers_agree(parsed, [event])
    lines = content_lines(data)
    assert "METHOD:CANCEL" in lines and "STATUS:CANCELLED" in lines and "SEQUENCE:7" in lines
    assert parsed["_ical.js raw"][0]["method"] == "CANCEL"
    assert str(icalendar.Calendar.from_ical(data)["METHOD"]) == "CANCEL"
    assert invite_event(status="CANCELLED", sequence=7).uid == invite_event().uid


@pytest.mark.parametrize(
    ("kw", "method"),
    [
        ({"status": "CONFIRMED"}, "CANCEL"),
        ({"status": "CANCELLED"}, "REQUEST"),
        ({"organizer_email": None}, "REQUEST"),
        ({}, "PUBLISH"),
    ],
)
def test_invite_rejects_inconsistent_input(kw, method):
    with pytest.raises(ValueError):
        invite(invite_event(**kw), method=method)


@pytest.mark.parametrize(
    "kw",
    [
        {"starts_at": datetime(2026, 3, 29, 9)},  # naive
        {"dtstamp": datetime(2026, 3, 29, 9)},
        {"timezone": "Mars/Olympus_Mons"},
        {"status": "MAYBE"},
        {"ends_at": utc(2026, 3, 28)},  # before start
    ],
)
def test_render_rejects_bad_values(kw):
    with pytest.raises(ValueError):
        render_vevent(invite_event(**kw))


# --- text ---------------------------------------------------------------------------


def test_welsh_emoji_and_escaped_text_round_trip(parse_all):
    event = make_event(
        utc(2026, 7, 1, 8),
        utc(2026, 7, 1, 9),
        summary=f"{WELSH_PERSON} – {WELSH_PLACE} {EMOJI}",
        description=f"{TRICKY_TEXT}\r\nCyfarfod bwrdd {EMOJI}",
        location=f"{WELSH_PLACE}, Bangor; LL57 2PW {EMOJI}",
        categories=("Bwrdd, Iechyd", EMOJI),
    )
    calendar_name = f"{WELSH_PLACE}, {WELSH_PERSON}; {EMOJI}"
    data = feed([render_vevent(event)], timezone_spans([event]), name=calendar_name)
    assert_well_formed(data)
    parsed = parse_all(data)
    # The CRLF in the caller's text is one line break, as every parser reports it.
    want = dataclasses.replace(event, description=event.description.replace("\r\n", "\n"))
    assert_all_parsers_agree(parsed, [want])
    text = data.decode()
    assert "one\\, two\\; three\\nLine two\\\\with backslash" in text.replace("\r\n ", "")

    (js_event,) = parsed["_ical.js raw"]
    assert js_event["categories"] == ["Bwrdd, Iechyd", EMOJI]
    # X-WR-CALNAME is TEXT: vobject unescapes it; ical.js, icalendar and ical hand back
    # the raw RFC 5545 text, which must unescape to the name (see render._calendar_name).
    assert parse_vobject_component(data).x_wr_calname.value == calendar_name
    extras = IcsCalendarStream.calendar_from_ics(data.decode()).extras
    raw_names = [
        js_event["calendar_name"],
        icalendar.Calendar.from_ical(data)["X-WR-CALNAME"].to_ical().decode(),
        *[p.value for p in extras if p.name.lower() == "x-wr-calname"],
    ]
    assert len(raw_names) == 3
    for raw in raw_names:
        assert raw == calendar_name.replace(",", "\\,").replace(";", "\\;")
        assert unescape_text(raw) == calendar_name


def test_long_lines_fold_at_75_octets_without_splitting_characters():
    # Multi-byte characters at every alignment against the fold boundary.
    for pad in range(4):
        event = make_event(
            utc(2026, 7, 1, 8),
            utc(2026, 7, 1, 9),
            summary="x" * pad + (WELSH_PERSON + EMOJI + "ŵ") * 12,
            description=("ŷ" * 37 + "🏴󠁧󠁢󠁷󠁬󠁳󠁿") * 5,
        )
        data = feed([render_vevent(event)], timezone_spans([event]), name=EMOJI * 40)
        assert_well_formed(data)
        (parsed,) = parse_icalendar(data)
        assert parsed["summary"] == event.summary
        assert parsed["description"] == event.description


# --- feeds --------------------------------------------------------------------------


def test_feed_is_a_join_of_stored_text_and_carries_no_addresses(parse_all):
    events = [
        make_event(utc(2026, 3, 28, 9), utc(2026, 3, 28, 10), uid="a@boardroom"),
        make_event(
            utc(2026, 4, 2, 9),
            utc(2026, 4, 2, 10),
            "Asia/Kolkata",
            uid="b@boardroom",
            status="CANCELLED",
            sequence=4,
        ),
        make_event(
            utc(2026, 4, 3, 9),
            utc(2026, 4, 3, 10),
            uid="c@boardroom",
            status="TENTATIVE",
            location=None,
            url=None,
            created=None,
        ),
    ]
    texts = [render_vevent(e) for e in events]
    data = feed(texts, timezone_spans(events), name="Trust feed", timezone="Europe/London")
    assert_well_formed(data)
    parsed = parse_all(data)
    assert_all_parsers_agree(parsed, events)

    text = data.decode()
    for vevent in texts:
        assert vevent in text  # byte for byte: nothing is re-rendered
    assert "mailto:" not in text and "ORGANIZER" not in text and "ATTENDEE" not in text
    lines = content_lines(data)
    head = lines[: lines.index("BEGIN:VTIMEZONE")]
    assert head == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Boardroom//Boardroom API//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Trust feed",
        "X-WR-TIMEZONE:Europe/London",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    assert lines.count("BEGIN:VTIMEZONE") == 2
    assert parsed["_ical.js raw"][0]["method"] == "PUBLISH"


def test_empty_feed_is_a_valid_calendar(parse_all):
    data = feed([], {}, name="Nothing yet")
    assert_well_formed(data)
    assert {k: v for k, v in parse_all(data).items() if not k.startswith("_")} == {
        "icalendar": [],
        "vobject": [],
        "ical": [],
        "ical.js": [],
    }


def test_build_calendar_without_feed_headers():
    event = make_event(utc(2026, 3, 28, 9), utc(2026, 3, 28, 10))
    data = build_calendar(
        [render_vevent(event)], ["Europe/London"], method=None, refresh=None, ttl=None
    )
    lines = content_lines(data)
    assert not any(line.startswith(("METHOD", "REFRESH", "X-PUBLISHED", "X-WR")) for line in lines)
    assert lines.count("BEGIN:VTIMEZONE") == 1


def test_render_and_join_figures(capsys):
    """Not a timing assertion: prints what rendering costs against joining."""
    count = 5000
    zones = ("Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata")
    start = utc(2024, 1, 1, 9)
    events = [
        make_event(
            start + timedelta(hours=13 * i),
            start + timedelta(hours=13 * i + 2),
            zones[i % len(zones)],
            uid=f"{i}@boardroom",
            sequence=i % 7,
            summary=f"Board session {i} – {WELSH_PERSON}",
            description=TRICKY_TEXT,
            location=WELSH_PLACE,
        )
        for i in range(count)
    ]
    began = time.perf_counter()
    texts = [render_vevent(e) for e in events]
    rendered = time.perf_counter() - began
    spans = timezone_spans(events)
    vtimezone_for_years.cache_clear()
    began = time.perf_counter()
    cold = feed(texts, spans, name="Programme")
    joined_cold = time.perf_counter() - began
    began = time.perf_counter()
    warm = feed(texts, spans, name="Programme")
    joined_warm = time.perf_counter() - began
    began = time.perf_counter()
    scanned = feed(texts, zones, name="Programme")
    joined_scan = time.perf_counter() - began
    assert cold == warm == scanned
    assert cold.count(b"BEGIN:VEVENT") == count
    with capsys.disabled():
        print(
            f"\n{count} VEVENTs: render_vevent {rendered * 1000:.0f} ms; feed join "
            f"{joined_cold * 1000:.1f} ms cold VTIMEZONE cache, {joined_warm * 1000:.1f} ms warm,"
            f" {joined_scan * 1000:.1f} ms with TZID names only; {len(cold) / 1e6:.2f} MB"
        )
