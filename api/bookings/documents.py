"""A booking's JSON, rendered by ``BookingSchema`` when the booking last changed and stored on its row.

``booking_renderings.api_doc`` holds the booking as a coordinator or viewer reads it, ``api_doc_partner`` as its
partner does (without ``notes`` and ``attendee_ids``). Lists and ``GET /bookings/{id}`` serve these texts
as they are, joined into one body: no ORM objects, no per-item serialisation on a read. The schema stays
the one serialiser: the stored text is ``BookingSchema().dump`` of the booking, written in the same
transaction as the change. Both are renderings of ``api.derived_map``: ``api.derived`` stores them,
clears them (and bumps the booking's version) when something they show changes elsewhere, and fills
them on a read that meets a NULL.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import selectinload

from api.bookings.models import Booking, BookingSpeaker
from api.bookings.schemas import BookingSchema

PARTNER_HIDDEN = frozenset({"notes", "attendees", "attendee_ids"})

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def load_options() -> list:
    """What rendering a booking reads: one query per relationship, whatever the number of bookings."""
    return [selectinload(Booking.topics), selectinload(Booking.attendees),
            selectinload(Booking.speakers).joinedload(BookingSpeaker.speaker), selectinload(Booking.registrations)]


def render(booking: Booking) -> tuple[str, str]:
    """The booking's JSON texts: (coordinator view, partner view)."""
    full = BookingSchema().dump(booking)
    partner = {key: value for key, value in full.items() if key not in PARTNER_HIDDEN}
    return _encode(full), _encode(partner)
