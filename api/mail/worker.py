"""The email worker: claim due messages, hand the stored bytes to the transport, record the outcome.

The same rules as webhook deliveries (``api.webhooks.worker``, machinery in ``api.work_queue``): short
transactions, claims with a lease and ``attempts`` as the fencing token (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), delivery at least once (a receiver de-duplicates on the
``Message-ID``, which every retry keeps), and backoff of 5 s, 10 s, 20 s ... up to ``MAX_ATTEMPTS``. A
permanent SMTP refusal (5xx) fails the message at once. A message still waiting when its session starts
is ``expired``: an invitation or reminder for the past helps no one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from api import work_queue
from api.db import utcnow
from api.mail.models import EmailMessage
from api.mail.transport import SendResult

log = logging.getLogger("boardroom.mail")

MAX_ATTEMPTS = 15
LEASE = timedelta(seconds=25)
# Renewed before a send when less than this is left: one SMTP send (connect, greet, DATA) fits in it.
RENEW_BEFORE = timedelta(seconds=15)
BATCH = 10
ERROR_TEXT_MAX = 500

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Claim:
    message_id: str  # the row's id
    attempt: int  # fencing token
    recipient: str
    body: str


@dataclass
class MailStats:
    attempts: int = 0
    sent: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.attempts} emails tried ({self.sent} sent, {self.failed} not sent)"


def claim_due(session: Session, now: datetime, limit: int = BATCH) -> list[Claim]:
    """Expire what came too late, then claim up to ``limit`` messages due now."""
    with work_queue.transaction(session):
        session.execute(update(EmailMessage)
                        .where(EmailMessage.status == "pending", EmailMessage.not_after <= now)
                        .values(status="expired", next_attempt_at=None)
                        .execution_options(synchronize_session=False))
        rows = work_queue.claim(session, EmailMessage, now, LEASE, limit,
                                EmailMessage.recipient_email.is_not(None), EmailMessage.body.is_not(None),
                                or_(EmailMessage.not_after.is_(None), EmailMessage.not_after > now),
                                order_by=[EmailMessage.created_at])
        return [Claim(row.id, row.attempts, row.recipient_email, row.body) for row in rows]


def record(session: Session, claim: Claim, result: SendResult, now: datetime) -> str | None:
    """Store the outcome of one send; return the message's status (None if the claim is no longer ours)."""
    with work_queue.transaction(session):
        row = session.get(EmailMessage, claim.message_id, with_for_update=True, populate_existing=True)
        if row is None or row.attempts != claim.attempt or row.status != "pending":
            return None  # withdrawn (a replaced reminder), erased, or taken over after the lease ran out
        if result.ok:
            row.status, row.sent_at, row.last_error, row.next_attempt_at = "sent", now, None, None
        else:
            row.last_error = (result.error or "failed")[:ERROR_TEXT_MAX]
            if result.permanent or row.attempts >= MAX_ATTEMPTS:
                row.status, row.next_attempt_at = "failed", None
            else:
                row.next_attempt_at = now + work_queue.retry_delay(row.attempts)
        return row.status


def drain(session: Session, transport, sender: str, *, clock: Clock = utcnow,
          stop: threading.Event | None = None) -> MailStats:
    """Send everything due until nothing is (or ``stop`` is set)."""
    stats = MailStats()

    def handle(claim: Claim) -> None:
        result = transport.send(sender, claim.recipient, claim.body.encode("ascii"), claim.message_id)
        record(session, claim, result, clock())
        stats.attempts += 1
        if result.ok:
            stats.sent += 1
        else:
            stats.failed += 1
        log.info("email %s attempt %d: %s", claim.message_id, claim.attempt, "sent" if result.ok else result.error)

    work_queue.run_claims(session, EmailMessage, claim_due, handle, held=_held, lease=LEASE,
                          renew_before=RENEW_BEFORE, clock=clock, stop=stop)
    return stats


def _held(claims: list[Claim]) -> list[tuple[str, int]]:
    return [(c.message_id, c.attempt) for c in claims]
