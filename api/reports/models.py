"""Monthly roll-ups behind the programme report, rebuilt per month when something in the month changed.

Each Europe/London month that holds bookings has a row in ``derived_counters`` keyed "YYYY-MM"
(``api.derived.counters``): ``changed`` is bumped in the
same transaction as any write that changes what the report counts for that month (a booking's status,
start or trust; its speakers; its outcome's scores or themes); ``built`` is the value of ``changed``
the month's ``report_rollup`` rows were computed from. A month is current when ``built = changed``.
Counters rather than a dirty flag, so a rebuild racing a write never marks the write's month clean.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base

ROLLUP_DIMENSIONS = ("status", "trust", "speaker", "theme", "confidence")


class ReportRollup(Base):
    """One figure of one month: bookings by status; delivered sessions by trust, speaker and theme;
    confidence sums of delivered sessions' outcomes (``key`` is '' where there is no key)."""

    __tablename__ = "report_rollup"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True, comment=", ".join(ROLLUP_DIMENSIONS))
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    sum_before: Mapped[int] = mapped_column(Integer, default=0, comment="confidence: sum of confidence_before.")
    sum_after: Mapped[int] = mapped_column(Integer, default=0, comment="confidence: sum of confidence_after.")
