"""Survey links (secret URLs, stored hashed) and the responses given through them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, Versioned


class SurveyLink(Versioned, Base):
    __tablename__ = "survey_links"

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256 of the URL token.")
    created_by_token_id: Mapped[str | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="Set when revoked or replaced by a newer link: the URL then answers 404.")


class SurveyResponse(Versioned, Base):
    __tablename__ = "survey_responses"
    __table_args__ = (
        CheckConstraint("confidence_before BETWEEN 1 AND 5", name="confidence_before"),
        CheckConstraint("confidence_after BETWEEN 1 AND 5", name="confidence_after"),
        CheckConstraint("usefulness BETWEEN 0 AND 10", name="usefulness"),
    )

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[str] = mapped_column(ForeignKey("survey_links.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[str | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True,
        comment="The booking attendee the given name matched; erasing that contact anonymises the response.")
    name: Mapped[str | None] = mapped_column(String(200), comment="The name the respondent gave (optional).")
    confidence_before: Mapped[int] = mapped_column(Integer)
    confidence_after: Mapped[int] = mapped_column(Integer)
    usefulness: Mapped[int] = mapped_column(Integer, comment="0-10: how useful the session was (NPS scale).")
    next_step: Mapped[str | None] = mapped_column(Text, comment="What the respondent will do next.")
