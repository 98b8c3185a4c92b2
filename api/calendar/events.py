"""A booking as iCalendar: its EventData for invites and feeds, and its feed VEVENT.

The feed VEVENT (the public view: no attendees, no organizer address, no internal notes) is one of the
booking's stored renderings: ``api.derived_map`` declares what it shows, and ``api.derived`` stores it
after every booking write and clears it when a trust, speaker or topic it names is renamed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from api.bookings.models import SEATED, Booking, BookingSpeaker
from api.calendar.render import Attendee, EventData, invite, render_vevent

STATUS_MAP = {
    "requested": "TENTATIVE",
    "provisional": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "delivered": "CONFIRMED",
    "cancelled": "CANCELLED",
}
SPEAKER_ROLES = {"facilitator": "CHAIR", "guest": "REQ-PARTICIPANT"}

def uid_of(booking_id: str) -> str:
    """The iCalendar UID of a booking: stable for the booking's whole life."""
    return f"{booking_id}@boardroom"


def booking_url(booking_id: str, config: Mapping[str, Any]) -> str | None:
    """``BOOKING_URL_TEMPLATE`` (a front end, ``{id}`` replaced) or the booking's API URL."""
    template = config.get("BOOKING_URL_TEMPLATE")
    if template:
        return template.replace("{id}", booking_id)
    base = config.get("PUBLIC_BASE_URL")
    if base:
        return f"{base.rstrip('/')}/api/v1/bookings/{booking_id}"
    return None


def describe(booking: Booking, *, with_brief: bool = True) -> str:
    """The DESCRIPTION: trust, speakers, topics, video link and brief — never internal notes."""
    lines = [f"Trust: {booking.trust.name}" if booking.trust else "Open to board members of many trusts"]
    speakers = [f"{s.speaker.name} ({s.role})" for s in _speakers(booking)]
    if speakers:
        lines.append("Speakers: " + ", ".join(speakers))
    if booking.topics:
        lines.append("Topics: " + ", ".join(t.name for t in _topics(booking)))
    if booking.video_url:
        lines.append(f"Join online: {booking.video_url}")
    if booking.brief and with_brief:
        lines += ["", booking.brief]
    return "\n".join(lines)


def _speakers(booking: Booking) -> list[BookingSpeaker]:
    # Facilitators first, then by name: the order people read in a calendar entry.
    return sorted(booking.speakers, key=lambda s: (s.role != "facilitator", s.speaker.name, s.speaker_id))


def _topics(booking: Booking) -> list:
    # Sorted here, not only by the relationship, so one version always renders the same bytes.
    return sorted(booking.topics, key=lambda t: (t.slug, t.id))


def event_data(
    booking: Booking,
    config: Mapping[str, Any],
    *,
    attendees: Iterable[Attendee] = (),
    organizer: bool = False,
    with_brief: bool = True,
) -> EventData:
    """The booking as plain values for ``api.calendar.render``.

    DTSTAMP is the booking's ``updated_at`` so that one version of a booking always renders
    to the same bytes (stable ETags); it still grows with every change, as iTIP needs.
    """
    location = booking.location or (booking.video_url if booking.format == "virtual" else None)
    return EventData(
        uid=uid_of(booking.id),
        sequence=booking.sequence or 0,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        timezone=booking.timezone,
        summary=booking.title,
        description=describe(booking, with_brief=with_brief),
        location=location,
        url=booking_url(booking.id, config),
        status=STATUS_MAP[booking.status],
        dtstamp=booking.updated_at,
        last_modified=booking.updated_at,
        created=booking.created_at,
        organizer_email=config.get("ORGANIZER_EMAIL") if organizer else None,
        organizer_name=config.get("ORGANIZER_NAME") if organizer else None,
        attendees=tuple(attendees),
        categories=tuple(t.name for t in _topics(booking)),
    )


def invite_attendees(booking: Booking, *, with_emails: bool, only: str | None = None) -> list[Attendee]:
    """An ATTENDEE per speaker (facilitators chair), per attendee contact and per registered participant of a
    class (a seat held: registered, attended or no-show; in arrival order).

    ``with_emails=False`` (the partner view) names them without addresses or ids: a partner never
    learns a contact's id. ``only`` keeps the one speaker or contact with that id; in the partner view
    it matches speakers alone (the booking shows the partner its speakers), so a contact id answers
    exactly as an id that is on nothing, and a partner cannot probe who attends.
    """
    speakers = [
        (s.speaker_id, Attendee(s.speaker.name, s.speaker.email if with_emails else None, SPEAKER_ROLES[s.role],
                                id=s.speaker_id if with_emails else None))
        for s in _speakers(booking)
    ]
    contacts = [
        (c.id, Attendee(c.name, c.email if with_emails else None, "REQ-PARTICIPANT",
                        id=c.id if with_emails else None))
        for c in [*sorted(booking.attendees, key=lambda c: (c.name, c.id)),
                  *(r.contact for r in booking.registrations if r.status in SEATED)]
    ]
    if only is not None:
        return [person for key, person in (speakers + contacts if with_emails else speakers) if key == only]
    return [person for _, person in speakers + contacts]


def feed_vevent(booking: Booking, config: Mapping[str, Any]) -> str:
    """The feed VEVENT: no attendees and no organizer, so no addresses at all. A request without a time has
    none (an empty text, stored as rendered: feeds leave such bookings out)."""
    if not booking.has_time:
        return ""
    return render_vevent(event_data(booking, config))


def contact_vevent(booking: Booking, config: Mapping[str, Any]) -> str:
    """A board member's feed VEVENT: the feed VEVENT without the ``brief`` (interview notes)."""
    return render_vevent(event_data(booking, config, with_brief=False))


def personal_invite(booking: Booking, config: Mapping[str, Any], attendee: Attendee, *,
                    cancel: bool = False) -> tuple[str, bytes]:
    """The invite one person gets, naming only them as ATTENDEE: (method, calendar bytes).

    ``REQUEST``, or ``CANCEL`` (with ``STATUS:CANCELLED``) when the booking is cancelled or ``cancel`` says the
    person was taken off it. The SEQUENCE stays the booking's: a removal touches the booking, so its CANCEL
    carries a later DTSTAMP, which is what makes it the newer version in iTIP (RFC 5546 2.1.5).
    """
    data = event_data(booking, config, attendees=[attendee], organizer=True)
    if cancel or data.status == "CANCELLED":
        return "CANCEL", invite(replace(data, status="CANCELLED"), method="CANCEL")
    return "REQUEST", invite(data, method="REQUEST")
