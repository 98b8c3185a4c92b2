"""Outcomes of delivered sessions and the next steps boards committed to."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UTCDateTime, Versioned
from api.topics.models import Topic

outcome_themes = Table(
    "outcome_themes",
    Base.metadata,
    Column("outcome_id", ForeignKey("outcomes.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Outcome(Versioned, Base):
    __tablename__ = "outcomes"
    __table_args__ = (
        CheckConstraint("confidence_before BETWEEN 1 AND 5", name="confidence_before"),
        CheckConstraint("confidence_after BETWEEN 1 AND 5", name="confidence_after"),
        CheckConstraint("feedback_score BETWEEN 0 AND 10", name="feedback_score"),
    )

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    summary: Mapped[str | None] = mapped_column(Text)
    attendance: Mapped[int | None] = mapped_column(Integer)
    digital_definitions: Mapped[list] = mapped_column(JSON, default=list,
                                                      comment="What digital meant to the people in the room.")
    confidence_before: Mapped[int | None] = mapped_column(Integer)
    confidence_after: Mapped[int | None] = mapped_column(Integer)
    feedback_score: Mapped[int | None] = mapped_column(Integer)

    themes: Mapped[list[Topic]] = relationship(secondary=outcome_themes, order_by=Topic.slug)
    next_steps: Mapped[list[NextStep]] = relationship(
        back_populates="outcome", cascade="all, delete-orphan", order_by="NextStep.position"
    )


class NextStep(Versioned, Base):
    __tablename__ = "next_steps"

    outcome_id: Mapped[str] = mapped_column(ForeignKey("outcomes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    outcome: Mapped[Outcome] = relationship(back_populates="next_steps")
