"""Partner organisations and hashed API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UTCDateTime, Versioned

ROLES = ("coordinator", "viewer", "partner", "metrics")  # metrics: reads /metrics only


class Partner(Versioned, Base):
    __tablename__ = "partners"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="partner")


class ApiToken(Versioned, Base):
    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True)
    token_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 of the bearer token; the token itself is never stored."
    )
    prefix: Mapped[str] = mapped_column(String(12), comment="First characters of the token, to recognise it.")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    partner: Mapped[Partner | None] = relationship(back_populates="tokens")
