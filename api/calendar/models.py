"""Calendar feed subscriptions (secret URLs, stored hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, Versioned

FEED_SCOPES = ("speaker", "trust", "programme", "contact")


class Feed(Versioned, Base):
    __tablename__ = "feeds"

    scope: Mapped[str] = mapped_column(String(20))
    speaker_id: Mapped[str | None] = mapped_column(ForeignKey("speakers.id"), index=True)
    trust_id: Mapped[str | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True,
                                                   comment="A board member's own feed (scope contact).")
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True,
                                                   comment="A partner's feed shows only that partner's bookings.")
    owner_token_id: Mapped[str | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256 of the URL token.")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
