"""A booking's JSON, rendered by ``BookingSchema`` when the booking last changed and stored on its row.

``bookings.api_doc`` holds the booking as a coordinator or viewer reads it, ``api_doc_partner`` as its
partner does (without ``notes`` and ``attendee_ids``). Lists and ``GET /bookings/{id}`` serve these texts
as they are, joined into one body: no ORM objects, no per-item serialisation on a read. The schema stays
the one serialiser: the stored text is ``BookingSchema().dump`` of the booking, written in the same
transaction as the change (``api.bookings.events.refresh_renderings``).

A stored text is cleared (set NULL) when something it shows changes without a booking write: a
speaker's name or a topic's slug (``api.bookings.calendar``'s rename hook), a privacy erasure. A read
that meets a NULL renders the missing documents from the ORM (one query per relationship for the page),
serves them, and stores them best effort (``store(..., only_if_missing=True)``), as feeds do with VEVENTs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from api.bookings.models import Booking, BookingSpeaker

PARTNER_HIDDEN = frozenset({"notes", "attendees", "attendee_ids"})

_bookings = Booking.__table__
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def load_options() -> list:
    """What rendering a booking reads: one query per relationship, whatever the number of bookings."""
    return [selectinload(Booking.topics), selectinload(Booking.attendees),
            selectinload(Booking.speakers).joinedload(BookingSpeaker.speaker)]


def render(booking: Booking) -> tuple[str, str]:
    """The booking's JSON texts: (coordinator view, partner view)."""
    from api.bookings.schemas import BookingSchema

    full = BookingSchema().dump(booking)
    partner = {key: value for key, value in full.items() if key not in PARTNER_HIDDEN}
    return _encode(full), _encode(partner)


def store(session: Session, docs: Iterable[tuple[str, str, str]], *, only_if_missing: bool) -> None:
    """Store (id, full, partner) texts in one executemany, leaving the version and ``updated_at`` alone.

    ``only_if_missing`` (a read filling in) never overwrites a text a concurrent write stored meanwhile.
    """
    params = [{"b_id": i, "b_full": full, "b_partner": partner} for i, full, partner in docs]
    if not params:
        return
    stmt = (update(_bookings).where(_bookings.c.id == bindparam("b_id"))
            .values(api_doc=bindparam("b_full"), api_doc_partner=bindparam("b_partner"),
                    updated_at=_bookings.c.updated_at))
    if only_if_missing:
        stmt = stmt.where(_bookings.c.api_doc.is_(None))
    session.connection().execute(stmt, params)


def refresh(session: Session, booking: Booking) -> None:
    """Render and store a booking's documents after a write (the caller has flushed it)."""
    full, partner = render(booking)
    store(session, [(booking.id, full, partner)], only_if_missing=False)
    set_committed_value(booking, "api_doc", full)
    set_committed_value(booking, "api_doc_partner", partner)


def render_missing(session: Session, booking_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Render the documents of bookings whose stored text was cleared: id -> (full, partner)."""
    bookings = session.scalars(select(Booking).where(Booking.id.in_(booking_ids)).options(*load_options()))
    return {booking.id: render(booking) for booking in bookings}
