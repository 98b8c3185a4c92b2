"""Calendar feed subscriptions (secret URLs, stored hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, Versioned

FEED_SCOPES = ("speaker", "trust", "programme")


class Feed(Versioned, Base):
    __tablename__ = "feeds"

    scope: Mapped[str] = mapped_column(String(20))
    speaker_id: Mapped[str | None] = mapped_column(ForeignKey("speakers.id"), index=True)
    trust_id: Mapped[str | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True,
                                                   comment="A partner's feed shows only that partner's bookings.")
    owner_token_id: Mapped[str | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256 of the URL token.")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DataState(Base):
    """A counter bumped in the same transaction as any write that changes what a feed or a booking
    list shows (bookings, their speakers and topics, trusts, speakers, topics, partners).

    One row (``id`` = 1). Feeds name ``version`` in their ETag, so a 304 is one indexed lookup;
    booking lists cache their ``X-Pagination`` total per version. See ``api.calendar.state``.
    """

    __tablename__ = "data_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


from api.calendar import state as _state  # noqa: E402,F401  (registers the session hooks that bump it)
