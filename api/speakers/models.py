"""Speakers from the expert network, their topics and their weekly availability."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, Id, UTCDateTime, Versioned
from api.topics.models import Topic

speaker_topics = Table(
    "speaker_topics",
    Base.metadata,
    Column("speaker_id", ForeignKey("speakers.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Speaker(Versioned, Base):
    __tablename__ = "speakers"

    name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    organisation: Mapped[str | None] = mapped_column(String(200))
    trust_id: Mapped[str | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    bio: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                                comment="True: sent no invitation emails.")
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    topics: Mapped[list[Topic]] = relationship(secondary=speaker_topics, order_by=Topic.slug)
    weekly: Mapped[list[AvailabilityWindow]] = relationship(
        back_populates="speaker", cascade="all, delete-orphan",
        order_by="(AvailabilityWindow.weekday, AvailabilityWindow.start_minute)",
    )
    exceptions: Mapped[list[AvailabilityException]] = relationship(
        back_populates="speaker", cascade="all, delete-orphan", order_by="AvailabilityException.starts_at",
    )


class AvailabilityWindow(Id, Base):
    """A weekly window, in wall-clock minutes local to the speaker's timezone."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440", name="window"),
    )

    speaker_id: Mapped[str] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer, comment="0 = Monday")
    start_minute: Mapped[int] = mapped_column(Integer, comment="Minutes after local midnight.")
    end_minute: Mapped[int] = mapped_column(Integer, comment="Minutes after local midnight; 1440 = 24:00.")

    speaker: Mapped[Speaker] = relationship(back_populates="weekly")


class AvailabilityException(Id, Base):
    """Absolute time the speaker is away (available=false) or additionally free (available=true)."""

    __tablename__ = "availability_exceptions"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="range"),)

    speaker_id: Mapped[str] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    available: Mapped[bool] = mapped_column(Boolean, default=False)

    speaker: Mapped[Speaker] = relationship(back_populates="exceptions")
