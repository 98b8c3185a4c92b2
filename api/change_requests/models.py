"""A partner's request to change one of its bookings, and the programme team's answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.bookings.models import Booking
from api.db import Base, UTCDateTime, Versioned

STATUSES = ("open", "accepted", "declined")
# The booking fields a change request may ask to change (SPEC, Change requests).
CHANGE_FIELDS = ("starts_at", "ends_at", "format", "location", "video_url")


class ChangeRequest(Versioned, Base):
    __tablename__ = "change_requests"

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[str | None] = mapped_column(
        ForeignKey("partners.id"), index=True, comment="The booking's partner, copied so lists scope in one query.")
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    format: Mapped[str | None] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(500))
    video_url: Mapped[str | None] = mapped_column(String(1000))
    fields_named: Mapped[str] = mapped_column(
        String(200), default="", comment="Comma-separated booking fields the request changes (a named null clears).")
    message: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text, comment="The programme team's answer.")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    booking: Mapped[Booking] = relationship()

    def changes(self) -> dict:
        """The booking fields this request asks to change, with their requested values."""
        return {name: getattr(self, name) for name in CHANGE_FIELDS if name in self.fields_named.split(",")}
