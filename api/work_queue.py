"""Claiming work from a table, shared by the webhook and email workers: short transactions, leases, fencing.

A row is due when it is ``pending`` and its ``next_attempt_at`` has come. ``claim`` takes due rows in
one transaction, bumping ``attempts`` (the claim's fencing token) and pushing ``next_attempt_at`` out
by a lease: on PostgreSQL the rows are selected ``FOR UPDATE SKIP LOCKED`` (concurrent workers take
disjoint rows without waiting), on SQLite the transaction is ``BEGIN IMMEDIATE`` (workers take turns).
A result is written only while ``attempts`` still equals the claimed value (``update_held``), so a
worker whose lease ran out cannot overwrite the work of the one that took over. Retries back off
exponentially (``retry_delay``). See ``api.webhooks.worker`` for the full story.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

FIRST_RETRY = timedelta(seconds=5)


def retry_delay(attempts_made: int, first: timedelta = FIRST_RETRY) -> timedelta:
    """How long to wait after the ``attempts_made``-th failed attempt: 5 s, 10 s, 20 s, ..."""
    return first * 2 ** (attempts_made - 1)


@contextmanager
def transaction(session: Session):
    """A short write transaction (BEGIN IMMEDIATE on SQLite, so workers queue rather than deadlock)."""
    # A worker's session lives for hours: forget what it read before, so edits made elsewhere count
    # from the next transaction on.
    session.expire_all()
    if not session.in_transaction():
        session.connection(execution_options={"sqlite_immediate": True})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def claim(session: Session, model, now: datetime, lease: timedelta, limit: int, *conditions, order_by=()) -> list:
    """Inside a ``transaction``: lock up to ``limit`` due rows of ``model`` and take them for ``lease``.

    Returns the rows with ``attempts`` already bumped: the value each claim must still match to record.
    """
    rows = session.scalars(
        select(model)
        .where(model.status == "pending", model.next_attempt_at <= now, *conditions)
        .order_by(model.next_attempt_at, *order_by, model.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=model)
        .execution_options(populate_existing=True)
    ).all()
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + lease
    return rows


def update_held(session: Session, model, held: list[tuple[str, int]], **values: Any) -> None:
    """Change the rows a worker still holds, given as (id, claimed attempts): the claim must still be theirs."""
    with transaction(session):
        for row_id, attempt in held:
            session.execute(update(model)
                            .where(model.id == row_id, model.attempts == attempt, model.status == "pending")
                            .values(**values))
