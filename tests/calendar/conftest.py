"""Calendar fixtures: bookings made directly through the models, the four parsers, query counting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, inspect, select

# The four parsers and their fixtures live with the rendering tests; share them, don't copy them.
from tests.calendar.test_render import (  # noqa: F401
    assert_well_formed,
    content_lines,
    icaljs,
    parse_all,
    parse_ical,
    parse_icalendar,
    parse_vobject,
    run_icaljs,
)

NOTES = "INTERNAL: chair and CEO do not get on"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def snapshot(obj, **extra) -> SimpleNamespace:
    """A model's column values, safe to read after a request has closed the session."""
    values = {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}
    return SimpleNamespace(**values, **extra)


def booking_snapshot(booking) -> SimpleNamespace:
    return snapshot(booking, speaker_ids=[s.speaker_id for s in booking.speakers])


@pytest.fixture
def create_booking(db, app, create_trust):
    """Create a booking (with speakers, attendees, topics) and store its feed VEVENT.

    ``speakers`` is a list of ``(speaker, role)``; ``refresh=False`` clears its stored VEVENT, as a
    rename of something it shows does.
    """
    from api import derived
    from api.bookings.models import Booking, BookingSpeaker
    from api.topics.models import Topic
    from api.trusts.models import Contact

    def _create(trust=None, *, speakers=(), attendees=(), topics=(), refresh=True, **kw):
        starts_at = kw.pop("starts_at", utc(2026, 12, 3, 10))
        ends_at = kw.pop("ends_at", starts_at + timedelta(hours=3))
        status = kw.pop("status", "confirmed")
        values = {
            "kind": "board_development", "format": "virtual", "timezone": "Europe/London",
            "title": "Board development: what digital means", "video_url": "https://meet.example/boardroom-abc",
            "brief": "Board keen on user-centred design.", "notes": NOTES, "sequence": 0,
        }
        values.update(kw)
        booking = Booking(trust_id=trust.id if trust else create_trust().id, status=status, live=status != "cancelled",
                          starts_at=starts_at, ends_at=ends_at, **values)
        if status == "cancelled" and booking.cancelled_at is None:
            booking.cancelled_at = utc(2026, 11, 20, 9)
        booking.topics = [db().get(Topic, t.id) for t in topics]
        booking.attendees = [db().get(Contact, c.id) for c in attendees]
        for speaker, role in speakers:
            booking.speakers.append(BookingSpeaker(speaker_id=speaker.id, role=role, starts_at=starts_at,
                                                   ends_at=ends_at, live=booking.live))
        db().add(booking)
        db().flush()
        derived.refresh(db(), booking, app.config)  # as a booking write does
        if not refresh:  # as after a rename: the feed renders them again
            derived.changed(db(), "booking", select(Booking.id).where(Booking.id == booking.id), ["vevent"])
        db().commit()
        return booking_snapshot(booking)

    return _create


@pytest.fixture
def change_booking(db, app):
    """Change a booking as the bookings service would, then refresh its calendar text."""
    from api import derived
    from api.bookings.models import Booking
    from api.db import utcnow

    def _change(booking_id: str, *, bump: bool = True, **values):
        # The booking's own rules (api.bookings.models), as the bookings service applies them.
        booking = db().get(Booking, booking_id)
        if "starts_at" in values or "ends_at" in values:
            starts_at = values.pop("starts_at", booking.starts_at)
            ends_at = values.pop("ends_at", booking.ends_at + (starts_at - booking.starts_at))
            moved, _outside = booking.slots_moved_to(starts_at, ends_at)
            booking.reschedule(starts_at, ends_at, moved)
        status = values.pop("status", None)
        if status == "cancelled":
            booking.cancel(values.pop("cancelled_at", None) or utcnow())
        elif status is not None:
            booking.status = status
        for field, value in values.items():
            setattr(booking, field, value)
        if bump:
            booking.sequence += 1
        booking.touch()
        derived.refresh(db(), booking, app.config)
        db().commit()
        return booking_snapshot(booking)

    return _change


@pytest.fixture
def count_queries(engine):
    """``with count_queries() as statements:`` collects the SQL run inside the block."""
    from contextlib import contextmanager

    @contextmanager
    def _count():
        statements: list[str] = []

        def _record(_conn, _cursor, statement, _params, _context, _many):
            head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
            if head not in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
                statements.append(statement)

        event.listen(engine, "before_cursor_execute", _record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", _record)

    return _count
