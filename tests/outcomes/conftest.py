"""Bookings made directly through the model, so these tests do not depend on the bookings API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from types import SimpleNamespace


@pytest.fixture
def create_booking(db, create_trust):
    from api import derived
    from api.bookings.models import Booking

    def _create(trust=None, status="delivered", starts_at=None, partner_id=None, attendees=(), **kw):
        trust = trust or create_trust()
        starts_at = starts_at or datetime(2025, 3, 5, 10, tzinfo=timezone.utc)
        booking = Booking(**{"trust_id": trust.id, "partner_id": partner_id, "kind": "board_development",
                             "format": "virtual", "status": status, "live": status != "cancelled",
                             "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=3),
                             "timezone": "Europe/London", "title": "Board development session", **kw})
        booking.attendees = list(attendees)
        db().add(booking)
        derived.refresh(db(), booking)  # its stored renderings, as a booking write stores them
        db().commit()
        # plain values: model instances expire at each commit and detach after each request
        return SimpleNamespace(id=booking.id, trust_id=booking.trust_id, partner_id=booking.partner_id,
                               title=booking.title, starts_at=booking.starts_at)

    return _create
