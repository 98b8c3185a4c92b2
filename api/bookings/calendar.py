"""A booking as iCalendar: its EventData for invites and feeds, and its stored feed VEVENT.

``refresh_calendar`` runs after every booking write and stores the feed VEVENT (the public
view: no attendees, no organizer address, no internal notes) in ``bookings.ical_vevent``,
so a feed request only joins stored text.

Renames: a feed VEVENT shows the trust's, the speakers' and the topics' names (the booking's JSON
documents, ``api.bookings.documents``, show speakers' names and topics' slugs). When one of those
changes (a PATCH, an import, a speaker's erasure), the ORM hook at the bottom of this module clears
the stored renderings of every booking that shows it (one UPDATE per kind, whatever the number of
bookings); the next read renders and stores them again. The
feed's ETag covers renames separately: any change to data a feed shows bumps the one-row
``data_state`` version at commit (``api.calendar.state``), and the ETag hashes that version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, event, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from api.bookings.models import Booking, BookingSpeaker, booking_attendees, booking_topics
from api.calendar.render import Attendee, EventData, render_vevent
from api.speakers.models import Speaker
from api.topics.models import Topic
from api.trusts.models import Contact, Trust

STATUS_MAP = {
    "requested": "TENTATIVE",
    "provisional": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "delivered": "CONFIRMED",
    "cancelled": "CANCELLED",
}
SPEAKER_ROLES = {"facilitator": "CHAIR", "guest": "REQ-PARTICIPANT"}

_bookings = Booking.__table__


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


def describe(booking: Booking) -> str:
    """The DESCRIPTION: trust, speakers, topics, video link and brief — never internal notes."""
    lines = [f"Trust: {booking.trust.name}"]
    speakers = [f"{s.speaker.name} ({s.role})" for s in _speakers(booking)]
    if speakers:
        lines.append("Speakers: " + ", ".join(speakers))
    if booking.topics:
        lines.append("Topics: " + ", ".join(t.name for t in _topics(booking)))
    if booking.video_url:
        lines.append(f"Join online: {booking.video_url}")
    if booking.brief:
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
        description=describe(booking),
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
    """An ATTENDEE per speaker (facilitators chair) and per attendee contact.

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
        for c in sorted(booking.attendees, key=lambda c: (c.name, c.id))
    ]
    if only is not None:
        return [person for key, person in (speakers + contacts if with_emails else speakers) if key == only]
    return [person for _, person in speakers + contacts]


def feed_vevent(booking: Booking, config: Mapping[str, Any]) -> str:
    """The feed VEVENT: no attendees and no organizer, so no addresses at all."""
    return render_vevent(event_data(booking, config))


def refresh_calendar(session: Session, booking: Booking, config: Mapping[str, Any] | None = None) -> None:
    """Render the booking's feed VEVENT and store it in ``ical_vevent``.

    Call after every booking write (create, update, status change, cancellation, speakers
    or attendees added or removed). Flushes first, so the text shows the final
    ``updated_at`` and ``sequence``. The text is written with a plain UPDATE that neither
    bumps the booking's version (its ETag) nor its ``updated_at``: it is derived data.
    """
    session.flush()
    text = feed_vevent(booking, _config() if config is None else config)
    store_vevents(session, [(booking.id, text)], only_if_missing=False)
    set_committed_value(booking, "ical_vevent", text)


def store_vevents(session: Session, texts: list[tuple[str, str]], *, only_if_missing: bool) -> None:
    """Store rendered VEVENTs (one executemany), leaving version and ``updated_at`` alone.

    ``only_if_missing`` (the feed's fill-in) never overwrites a text that a concurrent
    booking write stored in the meantime.
    """
    if not texts:
        return
    stmt = (
        update(_bookings)
        .where(_bookings.c.id == bindparam("b_id"))
        .values(ical_vevent=bindparam("b_text"), updated_at=_bookings.c.updated_at)
    )
    if only_if_missing:
        stmt = stmt.where(_bookings.c.ical_vevent.is_(None))
    session.connection().execute(stmt, [{"b_id": i, "b_text": t} for i, t in texts])


def _config() -> Mapping[str, Any]:
    from flask import current_app, has_app_context

    return current_app.config if has_app_context() else {}


# --- renames ----------------------------------------------------------------------------------

_RENAMES = "calendar_renames"


@event.listens_for(Session, "after_flush")
def _clear_renamed(session: Session, _flush_context) -> None:
    """Clear the stored renderings that show a trust, speaker or topic whose name (or slug) just changed.

    VEVENTs show the trust's, speakers' and topics' names; the JSON documents
    (``api.bookings.documents``) show speakers' names and topics' slugs, and list attendees in name order.
    """
    renamed: dict[type, list[str]] = {}
    for obj in session.dirty:
        if isinstance(obj, Contact) and inspect(obj).attrs.name.history.has_changes():
            renamed.setdefault(Contact, []).append(obj.id)  # documents list attendees in name order
        elif isinstance(obj, (Trust, Speaker, Topic)):
            attrs = inspect(obj).attrs
            if attrs.name.history.has_changes() or isinstance(obj, Topic) and attrs.slug.history.has_changes():
                renamed.setdefault(type(obj), []).append(obj.id)
    if not renamed:
        return
    cleared = {"ical_vevent": None, "updated_at": _bookings.c.updated_at}
    affected = []
    if Trust in renamed:
        affected.append((_bookings.c.trust_id.in_(renamed[Trust]), cleared))
    cleared = {**cleared, "api_doc": None, "api_doc_partner": None}
    if Speaker in renamed:
        affected.append((_bookings.c.id.in_(
            select(BookingSpeaker.booking_id).where(BookingSpeaker.speaker_id.in_(renamed[Speaker]))), cleared))
    if Contact in renamed:
        affected.append((_bookings.c.id.in_(
            select(booking_attendees.c.booking_id).where(booking_attendees.c.contact_id.in_(renamed[Contact]))),
            {"api_doc": None, "api_doc_partner": None, "updated_at": _bookings.c.updated_at}))
    if Topic in renamed:
        affected.append((_bookings.c.id.in_(
            select(booking_topics.c.booking_id).where(booking_topics.c.topic_id.in_(renamed[Topic]))), cleared))
    connection = session.connection()
    for condition, values in affected:
        connection.execute(update(_bookings).where(condition).values(**values))
    session.info[_RENAMES] = True


@event.listens_for(Session, "after_flush_postexec")
def _expire_cleared(session: Session, _flush_context) -> None:
    # Bookings already loaded in this session must not keep the cleared text in memory.
    if session.info.pop(_RENAMES, False):
        for obj in list(session.identity_map.values()):
            if isinstance(obj, Booking):
                session.expire(obj, ["ical_vevent", "api_doc", "api_doc_partner"])
