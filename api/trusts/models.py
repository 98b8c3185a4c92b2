"""NHS trusts, their board contacts and the CRM log of interactions with them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, String, Table, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UTCDateTime, Versioned

REGIONS = ("north_east_and_yorkshire", "north_west", "midlands", "east_of_england", "london",
           "south_east", "south_west")
TRUST_TYPES = ("acute", "mental_health", "community", "ambulance", "specialist", "combined", "other")
INTERACTION_KINDS = ("interview", "call", "email", "meeting", "note")

interaction_contacts = Table(
    "interaction_contacts",
    Base.metadata,
    Column("interaction_id", ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Trust(Versioned, Base):
    __tablename__ = "trusts"

    name: Mapped[str] = mapped_column(String(200), index=True)
    ods_code: Mapped[str] = mapped_column(String(5), unique=True, comment="NHS ODS code, upper case.")
    region: Mapped[str] = mapped_column(String(40), index=True)
    trust_type: Mapped[str] = mapped_column(String(20), index=True)
    ics: Mapped[str | None] = mapped_column(String(200), comment="Integrated care system name.")
    ics_code: Mapped[str | None] = mapped_column(String(3), index=True, comment=(
        "ODS code of the integrated care system's board (api.trusts.ics); null when not known."))
    website: Mapped[str | None] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    notes: Mapped[str | None] = mapped_column(Text, comment="Internal; never shown to partners.")
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    contacts: Mapped[list[Contact]] = relationship(back_populates="trust")


class Contact(Versioned, Base):
    __tablename__ = "contacts"

    trust_id: Mapped[str] = mapped_column(ForeignKey("trusts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200), comment="Board role, e.g. Chair.")
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text)
    email_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                                comment="True: sent no invitation emails.")
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), comment="Set when anonymised (UK GDPR erasure).")

    trust: Mapped[Trust] = relationship(back_populates="contacts")


class Interaction(Versioned, Base):
    __tablename__ = "interactions"

    trust_id: Mapped[str] = mapped_column(ForeignKey("trusts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    summary: Mapped[str] = mapped_column(Text)
    booking_id: Mapped[str | None] = mapped_column(ForeignKey("bookings.id"), index=True)

    contacts: Mapped[list[Contact]] = relationship(secondary=interaction_contacts)
