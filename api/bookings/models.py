"""Bookings: scheduled sessions with a trust board, their speakers and attendees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, Id, UTCDateTime, Versioned
from api.speakers.models import Speaker
from api.topics.models import Topic
from api.trusts.models import Contact, Trust

KINDS = ("board_development", "masterclass", "follow_up")
FORMATS = ("virtual", "in_person", "hybrid")
STATUSES = ("requested", "provisional", "confirmed", "delivered", "cancelled")
REGISTRATION_STATUSES = ("registered", "waitlisted", "cancelled", "attended", "no_show")
# A registration in one of these holds a seat of its masterclass (and the person's time: attendee_overlap).
SEATED = ("registered", "attended", "no_show")
DEFAULT_CAPACITY = 30
SPEAKER_ROLES = ("guest", "facilitator")
TRANSITIONS = {
    "requested": ("provisional", "confirmed", "cancelled"),
    "provisional": ("confirmed", "cancelled"),
    "confirmed": ("delivered", "cancelled"),
    "delivered": (),
    "cancelled": (),
}
# Changes that calendar clients must see as a new version of the invite (iCalendar SEQUENCE).
SEQUENCE_FIELDS = ("starts_at", "ends_at", "format", "location", "video_url")

booking_topics = Table(
    "booking_topics",
    Base.metadata,
    Column("booking_id", ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True),
)

booking_attendees = Table(
    "booking_attendees",
    Base.metadata,
    Column("booking_id", ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Booking(Versioned, Base):
    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("partner_id", "external_ref"),
        CheckConstraint("starts_at < ends_at", name="range"),
        CheckConstraint("(starts_at IS NULL) = (ends_at IS NULL)", name="timed"),
        Index("ix_bookings_trust_live_time", "trust_id", "live", "starts_at", "ends_at"),
        Index("ix_bookings_starts_at_id", "starts_at", "id"),
        CheckConstraint("capacity IS NULL OR capacity BETWEEN 1 AND 500", name="capacity"),
    )

    trust_id: Mapped[str | None] = mapped_column(ForeignKey("trusts.id"),
                                                 comment="Required except for a masterclass open to many trusts.")
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True,
                                                   comment="Set when a partner token created it.")
    external_ref: Mapped[str | None] = mapped_column(String(200), comment="The partner's own reference.")
    kind: Mapped[str] = mapped_column(String(30), index=True)
    format: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    live: Mapped[bool] = mapped_column(Boolean, default=True,
                                       comment="False once cancelled: only live bookings hold their time.")
    starts_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="NULL for a partner's request that has no time yet (see preferred_windows).")
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    preferred_windows: Mapped[list | None] = mapped_column(
        JSON, comment="A partner's request: [{from, to}] (UTC text) it would like the session within.")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    title: Mapped[str] = mapped_column(String(300))
    location: Mapped[str | None] = mapped_column(String(500))
    video_url: Mapped[str | None] = mapped_column(String(1000))
    brief: Mapped[str | None] = mapped_column(Text, comment="Tailoring notes shared with speakers.")
    notes: Mapped[str | None] = mapped_column(Text, comment="Internal; never shown to partners or in calendars.")
    sequence: Mapped[int] = mapped_column(Integer, default=0,
                                          comment="iCalendar SEQUENCE: grows on reschedule, format/location/link change, cancellation.")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    capacity: Mapped[int | None] = mapped_column(Integer, comment="Masterclasses: seats (1-500); NULL otherwise.")

    trust: Mapped[Trust | None] = relationship()
    topics: Mapped[list[Topic]] = relationship(secondary=booking_topics, order_by=Topic.slug)
    attendees: Mapped[list[Contact]] = relationship(secondary=booking_attendees, order_by=Contact.name)
    speakers: Mapped[list[BookingSpeaker]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingSpeaker.starts_at",
    )
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="Registration.position",
    )

    # --- single-row rules ---------------------------------------------------------------------------

    @hybrid_property
    def has_time(self) -> bool:
        """Whether the booking has a time. A request without one (``starts_at`` NULL) is in no feed, invite,
        email, conflict check, ``from``/``to`` filter or report month: filter with ``Booking.has_time``."""
        return self.starts_at is not None

    @has_time.inplace.expression
    @classmethod
    def _has_time_expression(cls):
        return cls.starts_at.is_not(None)

    def next_statuses(self) -> tuple[str, ...]:
        return TRANSITIONS[self.status]

    def can_become(self, status: str) -> bool:
        """Whether the lifecycle allows moving from this status to ``status``."""
        return status in TRANSITIONS[self.status]

    def schedule(self) -> tuple:
        """What calendar clients must see as a new version when it changes (iCalendar SEQUENCE)."""
        return tuple(getattr(self, field) for field in SEQUENCE_FIELDS)

    def slots_moved_to(self, starts_at: datetime, ends_at: datetime,
                       ) -> tuple[dict[BookingSpeaker, tuple[datetime, datetime]], list[str]]:
        """Where each speaker's slot goes if the booking moves: own slots shift with the start, the rest take the
        new range; and the names of speakers whose slot would then fall outside the booking."""
        delta = starts_at - self.starts_at if self.has_time else None
        moved, outside = {}, []
        for slot in self.speakers:
            start, end = (slot.starts_at + delta, slot.ends_at + delta) if slot.own_slot else (starts_at, ends_at)
            if start < starts_at or end > ends_at:
                outside.append(slot.speaker.name)
            moved[slot] = (start, end)
        return moved, outside

    def reschedule(self, starts_at: datetime, ends_at: datetime,
                   moved: dict[BookingSpeaker, tuple[datetime, datetime]]) -> None:
        """Move the booking and its speakers' slots (``slots_moved_to``'s answer)."""
        if starts_at != self.starts_at:
            self.starts_at = starts_at
        self.ends_at = ends_at
        for slot, (start, end) in moved.items():
            slot.starts_at, slot.ends_at = start, end

    @property
    def is_masterclass(self) -> bool:
        return self.kind == "masterclass"

    def count(self, *statuses: str) -> int:
        return sum(1 for r in self.registrations if r.status in statuses)

    @property
    def registered_count(self) -> int | None:
        return self.count(*SEATED) if self.is_masterclass else None

    @property
    def waitlisted_count(self) -> int | None:
        return self.count("waitlisted") if self.is_masterclass else None

    @property
    def seats_left(self) -> int | None:
        return max(0, self.capacity - self.count(*SEATED)) if self.is_masterclass and self.capacity else None

    def cancel(self, when: datetime) -> None:
        """Cancelled: the booking and its speakers' slots no longer hold their time."""
        self.status, self.live, self.cancelled_at = "cancelled", False, when
        for slot in self.speakers:
            slot.live = False


@dataclass(frozen=True)
class Slot:
    """A speaker's proposed time in a booking (what conflict finding checks)."""

    speaker_id: str
    starts_at: datetime
    ends_at: datetime


class BookingSpeaker(Id, Base):
    """A speaker's slot in a booking; its absolute range and liveness are kept on the row for overlap checks."""

    __tablename__ = "booking_speakers"
    __table_args__ = (
        UniqueConstraint("booking_id", "speaker_id"),
        CheckConstraint("starts_at < ends_at", name="range"),
        Index("ix_booking_speakers_speaker_live_time", "speaker_id", "live", "starts_at", "ends_at"),
    )

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    speaker_id: Mapped[str] = mapped_column(ForeignKey("speakers.id"))
    role: Mapped[str] = mapped_column(String(20), default="guest")
    own_slot: Mapped[bool] = mapped_column(Boolean, default=False,
                                           comment="True when the slot was given; false means the whole booking.")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), comment="Effective start (the booking's when no slot).")
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    live: Mapped[bool] = mapped_column(Boolean, default=True, comment="Mirrors the booking: false once cancelled.")

    booking: Mapped[Booking] = relationship(back_populates="speakers")
    speaker: Mapped[Speaker] = relationship()


class Registration(Versioned, Base):
    """A board member's place in a masterclass (or on its waiting list); erased people stay counted."""

    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("booking_id", "contact_id"),
        UniqueConstraint("booking_id", "position"),
        Index("ix_registrations_contact_status", "contact_id", "status"),
        Index("ix_registrations_booking_status_position", "booking_id", "status", "position"),
    )

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"))
    trust_id: Mapped[str] = mapped_column(ForeignKey("trusts.id"), index=True,
                                          comment="The contact's trust when registered (feeds, reports).")
    status: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, comment="Order of arrival in the class (waiting-list order).")
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True,
                                                   comment="The partner that made the registration, if any.")
    given_name: Mapped[str | None] = mapped_column(String(200), comment="The name the partner gave.")
    given_email: Mapped[str | None] = mapped_column(String(320), comment="The email the partner gave.")

    booking: Mapped[Booking] = relationship(back_populates="registrations")
    contact: Mapped[Contact] = relationship()


class BookingRendering(Base):
    """A booking's stored renderings (``api.derived_map``), kept apart so the ``bookings`` heap stays narrow:
    counts, conflict checks and report rebuilds read only the booking's own columns."""

    __tablename__ = "booking_renderings"

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    api_doc: Mapped[str | None] = mapped_column(
        Text, comment="The booking's JSON as a coordinator reads it (BookingSchema); NULL: render on the next read.")
    api_doc_partner: Mapped[str | None] = mapped_column(
        Text, comment="The same for its partner: without notes and attendee_ids.")
    ical_vevent: Mapped[str | None] = mapped_column(
        Text, comment="The feed VEVENT (no attendees, organizer or notes); trust and programme feeds join these.")


class SpeakerFeedEvent(Base):
    """Each speaker's feed events kept together, in feed order: a speaker's feed is one range of this table's
    primary key (WITHOUT ROWID on SQLite, so the rows themselves are stored in key order). Rewritten with the
    booking's renderings on every booking write (``api.derived_map``)."""

    __tablename__ = "speaker_feed_events"
    __table_args__ = {"sqlite_with_rowid": False}

    speaker_id: Mapped[str] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True, comment="The booking's start.")
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    partner_id: Mapped[str | None] = mapped_column(String(36))
    timezone: Mapped[str] = mapped_column(String(64))
    ical_vevent: Mapped[str | None] = mapped_column(Text, comment="The booking's feed VEVENT; NULL: render on read.")
