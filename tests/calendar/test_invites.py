"""Booking invites (.ics) as clients see them, read back by four independent parsers."""

from __future__ import annotations

import re

import icalendar
import pytest

from tests.calendar.conftest import NOTES, content_lines, utc
from tests.conftest import problem

ORGANIZER = "mailto:programme@boardroom.example"


@pytest.fixture
def board(create_trust, create_contact, create_speaker, seeded_topics):
    """A trust with two board members, a facilitator and a guest speaker in Sydney."""
    from sqlalchemy import select

    from api.topics.models import Topic
    from tests.calendar.conftest import snapshot

    trust = create_trust(name="Leeds Teaching Hospitals NHS Trust")
    chair = create_contact(trust, name="Siân Llŷr", role="Chair", email="sian@example.nhs.uk")
    ceo = create_contact(trust, name="Ada Jones", role="Chief Executive", email="ada@example.nhs.uk",
                         phone="+44 20 7000 1111")
    facilitator = create_speaker(name="Owain Price", email="owain@example.org", timezone="Europe/London")
    guest = create_speaker(name="Dr Amara Okafor", email="amara@example.org", phone="+61 2 9000 0000",
                           timezone="Australia/Sydney")
    topics = list(seeded_topics().scalars(select(Topic).order_by(Topic.slug).limit(2)))
    return {"trust": snapshot(trust), "contacts": [snapshot(chair), snapshot(ceo)],
            "facilitator": snapshot(facilitator), "guest": snapshot(guest), "topics": [snapshot(t) for t in topics]}


@pytest.fixture
def booking(create_booking, board):
    return create_booking(board["trust"], speakers=[(board["facilitator"], "facilitator"), (board["guest"], "guest")],
                          attendees=board["contacts"], topics=board["topics"], sequence=2,
                          starts_at=utc(2026, 3, 27, 10), ends_at=utc(2026, 3, 27, 13))


def url(booking_id: str) -> str:
    return f"/api/v1/bookings/{booking_id}/invite.ics"


def attendees_of(data: bytes) -> dict[str, dict]:
    (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    found = event.get("ATTENDEE", [])
    found = found if isinstance(found, list) else [found]
    return {str(a.params["CN"]): {"value": str(a), **{k: str(v) for k, v in a.params.items()}} for a in found}


def assert_agrees_with_booking(parsed: dict, booking, sequence: int | None = None) -> None:
    """Every parser reads the booking's UID, SEQUENCE, status and UTC times."""
    for parser, events in parsed.items():
        if parser.startswith("_"):
            continue
        (event,) = [e for e in events if e["uid"] == f"{booking.id}@boardroom"]
        assert event["start_utc"] == booking.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ"), parser
        assert event["end_utc"] == booking.ends_at.strftime("%Y-%m-%dT%H:%M:%SZ"), parser
        assert event["sequence"] == (booking.sequence if sequence is None else sequence), parser


def test_invite_is_an_itip_request_with_organizer_and_attendees(coordinator, booking, board, parse_all):
    r = coordinator.get(url(booking.id))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/calendar; method=REQUEST; charset=utf-8"  # SPEC: the Content-Type carries the method
    assert r.headers["ETag"].startswith('"')
    data = r.data
    lines = content_lines(data)
    assert "METHOD:REQUEST" in lines
    assert f"UID:{booking.id}@boardroom" in lines
    assert "SEQUENCE:2" in lines
    assert "STATUS:CONFIRMED" in lines
    assert "DTSTART;TZID=Europe/London:20260327T100000" in lines
    assert "TZID:Europe/London" in lines  # the matching VTIMEZONE
    assert any(line.startswith("DTSTAMP:") and line.endswith("Z") for line in lines)
    assert f'ORGANIZER;CN="Board Development Programme":{ORGANIZER}' in lines
    people = attendees_of(data)
    assert people["Owain Price"] == {"value": "mailto:owain@example.org", "CUTYPE": "INDIVIDUAL", "ROLE": "CHAIR",
                                     "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE", "CN": "Owain Price"}
    assert people["Dr Amara Okafor"]["ROLE"] == "REQ-PARTICIPANT"
    assert people["Dr Amara Okafor"]["value"] == "mailto:amara@example.org"
    assert people["Siân Llŷr"]["value"] == "mailto:sian@example.nhs.uk"
    assert people["Ada Jones"]["ROLE"] == "REQ-PARTICIPANT" and people["Ada Jones"]["RSVP"] == "TRUE"
    text = data.decode()
    assert NOTES not in text and "+44 20 7000 1111" not in text and "+61" not in text
    description = str(icalendar.Calendar.from_ical(data).walk("VEVENT")[0]["DESCRIPTION"])
    assert "Trust: Leeds Teaching Hospitals NHS Trust" in description
    assert "Owain Price (facilitator)" in description and "Join online: https://meet.example/" in description
    assert all(t.name in description for t in board["topics"])

    parsed = parse_all(data)
    assert_agrees_with_booking(parsed, booking)
    (js,) = parsed["_ical.js raw"]
    assert js["method"] == "REQUEST" and js["organizer"]["value"] == ORGANIZER
    assert {a["cn"] for a in js["attendees"]} == {"Owain Price", "Dr Amara Okafor", "Siân Llŷr", "Ada Jones"}


def test_viewer_may_download_and_anonymous_may_not(viewer, anon, booking):
    assert viewer.get(url(booking.id)).status_code == 200
    assert problem(anon.get(url(booking.id)))["status"] == 401


def test_partner_gets_own_bookings_without_addresses(partner, partner_org, other_partner, create_booking, board,
                                                     parse_all):
    own = create_booking(board["trust"], partner_id=partner_org.id, attendees=board["contacts"],
                         speakers=[(board["guest"], "guest")])
    theirs = create_booking(board["trust"], starts_at=utc(2026, 12, 10, 10),
                            speakers=[(board["facilitator"], "facilitator")])
    r = partner.get(url(own.id))
    assert r.status_code == 200
    text = r.data.decode()
    assert "mailto:" in text and text.count("mailto:") == 1  # the programme's address only
    assert "@example" not in text
    people = attendees_of(r.data)
    assert set(people) == {"Dr Amara Okafor", "Siân Llŷr", "Ada Jones"}
    assert all(p["value"].startswith("urn:uuid:") and p["RSVP"] == "FALSE" for p in people.values())
    # No ids either: a partner never learns a contact's id (SPEC, Roles).
    assert not any(person.id in text for person in [*board["contacts"], board["guest"]])
    assert_agrees_with_booking(parse_all(r.data), own)
    # Another partner's booking, or one no partner made, is outside the partner's scope.
    assert problem(partner.get(url(theirs.id)))["status"] == 404
    assert problem(other_partner.get(url(own.id)))["status"] == 404


def test_unknown_or_malformed_booking_is_404(coordinator):
    assert problem(coordinator.get(url("00000000-0000-4000-8000-000000000000")))["status"] == 404
    assert problem(coordinator.get("/api/v1/bookings/not-a-uuid/invite.ics"))["status"] == 404


@pytest.mark.parametrize("who", ["facilitator", "contact"])
def test_per_attendee_invite_names_only_them_with_the_same_uid(coordinator, partner, booking, board, who,
                                                               parse_all):
    person = board["facilitator"] if who == "facilitator" else board["contacts"][1]
    r = coordinator.get(url(booking.id) + f"?attendee={person.id}")
    assert r.status_code == 200
    assert list(attendees_of(r.data)) == [person.name]
    assert f"UID:{booking.id}@boardroom" in content_lines(r.data)
    assert_agrees_with_booking(parse_all(r.data), booking)
    assert r.headers["ETag"] != coordinator.get(url(booking.id)).headers["ETag"]


def test_a_partner_cannot_probe_who_attends(partner, partner_org, create_booking, board, create_contact):
    own = create_booking(board["trust"], partner_id=partner_org.id, attendees=board["contacts"],
                         speakers=[(board["guest"], "guest")])
    absent_id = create_contact(name="Not Invited").id
    on_it, not_on_it = (partner.get(url(own.id) + f"?attendee={i}") for i in (board["contacts"][0].id, absent_id))
    assert on_it.status_code == not_on_it.status_code == 422
    assert problem(on_it)["detail"] == problem(not_on_it)["detail"]
    assert on_it.json["errors"] == not_on_it.json["errors"]
    speaker = partner.get(url(own.id) + f"?attendee={board['guest'].id}")  # its booking shows its speakers
    assert speaker.status_code == 200 and list(attendees_of(speaker.data)) == [board["guest"].name]
    assert board["guest"].id not in speaker.data.decode()


def test_per_attendee_invite_for_someone_not_on_the_booking_is_422(coordinator, booking, create_speaker):
    stranger_id = create_speaker(name="Not Booked").id
    for value in (stranger_id, "00000000-0000-4000-8000-000000000000", "nope"):
        body = problem(coordinator.get(url(booking.id) + f"?attendee={value}"))
        assert body["status"] == 422 and "attendee" in body["errors"]
    assert problem(coordinator.get(url(booking.id) + "?atendee=x"))["status"] == 422  # a typo is not ignored


def test_cancelled_booking_gives_a_cancel(coordinator, partner, partner_org, booking, change_booking, parse_all):
    partner_id = partner_org.id
    before = coordinator.get(url(booking.id))
    cancelled = change_booking(booking.id, status="cancelled", cancel_reason="Board meeting moved",
                               partner_id=partner_id)
    for client in (coordinator, partner):
        r = client.get(url(booking.id) + (f"?attendee={cancelled.speaker_ids[0]}" if client is partner
                                          else ""))
        assert r.status_code == 200
        lines = content_lines(r.data)
        assert "METHOD:CANCEL" in lines and "STATUS:CANCELLED" in lines
        assert f"UID:{booking.id}@boardroom" in lines and "SEQUENCE:3" in lines
        parsed = parse_all(r.data)
        assert_agrees_with_booking(parsed, cancelled, sequence=3)
        assert parsed["_ical.js raw"][0]["method"] == "CANCEL"
        assert all(e["status"] == "CANCELLED" for p, es in parsed.items() if not p.startswith("_") for e in es)
    assert NOTES not in before.data.decode()


def test_etag_and_304_follow_what_the_invite_shows(coordinator, booking, board, db):
    first = coordinator.get(url(booking.id))
    etag = first.headers["ETag"]
    again = coordinator.get(url(booking.id), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and again.data == b""
    assert coordinator.get(url(booking.id)).data == first.data  # one version renders to the same bytes
    # A board member's new name is on the invite, so the ETag moves though the booking did not.
    from api.trusts.models import Contact

    db().get(Contact, board["contacts"][1].id).name = "Ada Jones-Price"
    db().commit()
    changed = coordinator.get(url(booking.id), headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Ada Jones-Price" in attendees_of(changed.data)


# --- across daylight-saving changes -------------------------------------------------------------

DST_CASES = [
    # Europe/London 2026: clocks go forward 29 March 01:00 GMT, back 25 October 02:00 BST.
    ("Europe/London", utc(2026, 3, 28, 10), "DTSTART;TZID=Europe/London:20260328T100000"),  # Sat before, GMT
    ("Europe/London", utc(2026, 3, 30, 9), "DTSTART;TZID=Europe/London:20260330T100000"),  # Mon after, BST
    ("Europe/London", utc(2026, 3, 29, 0, 30), "DTSTART;TZID=Europe/London:20260329T003000"),  # across the change
    ("Europe/London", utc(2026, 10, 24, 9), "DTSTART;TZID=Europe/London:20261024T100000"),  # Sat before, BST
    ("Europe/London", utc(2026, 10, 26, 10), "DTSTART;TZID=Europe/London:20261026T100000"),  # Mon after, GMT
    ("Europe/London", utc(2026, 10, 25, 0, 30), "DTSTART:20261025T003000Z"),  # 01:30 BST: an hour that repeats
    # Australia/Sydney 2026: back 5 April 03:00 AEDT, forward 4 October 02:00 AEST.
    ("Australia/Sydney", utc(2026, 4, 3, 22), "DTSTART;TZID=Australia/Sydney:20260404T090000"),  # AEDT
    ("Australia/Sydney", utc(2026, 4, 5, 23), "DTSTART;TZID=Australia/Sydney:20260406T090000"),  # AEST
    ("Australia/Sydney", utc(2026, 10, 2, 23), "DTSTART;TZID=Australia/Sydney:20261003T090000"),  # AEST
    ("Australia/Sydney", utc(2026, 10, 4, 22), "DTSTART;TZID=Australia/Sydney:20261005T090000"),  # AEDT
]


@pytest.mark.parametrize(("tz", "starts_at", "line"), DST_CASES,
                         ids=[f"{tz}-{s:%m%d%H%M}" for tz, s, _ in DST_CASES])
def test_invite_times_agree_across_dst(coordinator, create_booking, board, parse_all, tz, starts_at, line):
    booking = create_booking(board["trust"], timezone=tz, starts_at=starts_at, speakers=[(board["guest"], "guest")])
    r = coordinator.get(url(booking.id))
    assert r.status_code == 200
    assert line in content_lines(r.data)
    if "TZID=" in line:
        assert f"TZID:{tz}" in content_lines(r.data)
    assert_agrees_with_booking(parse_all(r.data), booking)
    assert re.search(rb"DTEND[;:]", r.data)
