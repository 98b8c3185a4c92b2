"""The transactional outbox: events written in the same transaction as the change they describe."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.db import Base, Id, UTCDateTime, utcnow


class OutboxEvent(Id, Base):
    __tablename__ = "outbox_events"

    type: Mapped[str] = mapped_column(String(60), comment="e.g. booking.created")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    partner_id: Mapped[str | None] = mapped_column(
        String(36), index=True, comment="The partner whose object this is; partner hooks hear only their own."
    )
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    payload: Mapped[dict] = mapped_column(JSON, comment="The object as a coordinator sees it; redacted per subscriber.")
    dispatched_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), index=True, comment="When deliveries were created for each matching webhook."
    )


def emit(session: Session, type_: str, *, entity_type: str, entity_id: str, partner_id: str | None,
         payload: dict) -> OutboxEvent:
    event = OutboxEvent(type=type_, entity_type=entity_type, entity_id=entity_id, partner_id=partner_id,
                        payload=payload)
    session.add(event)
    return event
