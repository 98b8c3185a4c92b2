"""Email messages owed to people about a booking: the iMIP outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, Id, UTCDateTime, utcnow

KINDS = ("request", "update", "cancel", "reminder")
STATUSES = ("pending", "sent", "failed", "expired")


class EmailMessage(Id, Base):
    """One message to one person; retried until sent, refused for good, or too late to matter."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_due", "status", "next_attempt_at"),)

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    recipient_type: Mapped[str] = mapped_column(String(20), comment="speaker or contact")
    recipient_id: Mapped[str] = mapped_column(String(36), index=True)
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    recipient_email: Mapped[str | None] = mapped_column(String(320), comment="Null once the person is erased.")
    kind: Mapped[str] = mapped_column(String(20), comment="request, update, cancel or reminder")
    sequence: Mapped[int] = mapped_column(Integer, comment="The invite's SEQUENCE in this message.")
    message_id: Mapped[str] = mapped_column(String(255), unique=True, comment="Message-ID, kept across retries.")
    body: Mapped[str | None] = mapped_column(Text, comment="The whole message as sent; null once erased.")
    status: Mapped[str] = mapped_column(String(20), default="pending", comment="pending, sent, failed, expired")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), comment="When it is due (a reminder's day).")
    not_after: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="Not sent from this time on (the session has started): then `expired`.")
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, index=True)
