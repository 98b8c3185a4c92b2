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

import threading
from collections.abc import Callable
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


def run_claims(session: Session, model, claim_batch: Callable[[Session, datetime], list],
               handle: Callable[[Any], None], *, held: Callable[[list], list[tuple[str, int]]], lease: timedelta,
               renew_before: timedelta, clock: Callable[[], datetime], stop: threading.Event | None = None) -> None:
    """Claim batches (``claim_batch``) and ``handle`` each claim until nothing is due or ``stop`` is set.

    Before a claim is handled, the lease of the rest of the batch is renewed if less than ``renew_before`` is
    left, so a live claim never expires; on ``stop`` the claims not yet handled are handed back, due at once.
    ``held`` gives the (id, claimed attempts) pairs of a list of claims.
    """
    while not (stop and stop.is_set()):
        claimed_at = clock()
        claims = claim_batch(session, claimed_at)
        if not claims:
            return
        lease_ends = claimed_at + lease
        for index, claim in enumerate(claims):
            if stop and stop.is_set():
                update_held(session, model, held(claims[index:]), attempts=model.attempts - 1, next_attempt_at=clock())
                return
            if lease_ends - clock() < renew_before:
                lease_ends = clock() + lease
                update_held(session, model, held(claims[index:]), next_attempt_at=lease_ends)
            handle(claim)
