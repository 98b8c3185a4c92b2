"""The counters' one table: every counter kept with a write is a row of ``derived_counters``.

The map's counters (``api.derived_map``) say, at commit, which rows this transaction moves: the data
state's row (``data_state``) and the report months it changed (``"YYYY-MM"``). ``bump`` moves them all in
ONE upsert (``changed = changed + 1``), so a write pays one statement for its counters however many it
moves, and takes their row locks in key order — the months (digits) before the data state (letters),
the same order for every writer, so concurrent writers do not deadlock on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.db import Base, UTCDateTime, utcnow


class CounterRow(Base):
    __tablename__ = "derived_counters"

    key: Mapped[str] = mapped_column(
        String(20), primary_key=True, comment='"data_state", or a Europe/London report month "YYYY-MM".')
    changed: Mapped[int] = mapped_column(Integer, default=1, comment="Moved by every commit that changes what the "
                                                                     "counter watches.")
    built: Mapped[int] = mapped_column(Integer, default=0, comment="Report months: `changed` when the month's "
                                                                   "roll-up rows were built.")
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), comment="When `changed` last moved.")


def bump(session: Session, keys: Iterable[str]) -> None:
    """Move these counters by one, in one statement (a row that does not exist yet starts at 1)."""
    keys = sorted(set(keys))
    if not keys:
        return
    table = CounterRow.__table__
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    now = utcnow()
    stmt = insert(table).values([{"key": key, "changed": 1, "built": 0, "changed_at": now} for key in keys])
    connection.execute(stmt.on_conflict_do_update(
        index_elements=[table.c.key], set_={"changed": table.c.changed + 1, "changed_at": stmt.excluded.changed_at}))
