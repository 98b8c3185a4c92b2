"""The delivery worker: fan out outbox events, claim due deliveries, send them signed, record each attempt.

Every database step is its own short transaction and no transaction is open while a request
is in flight, so a slow receiver never holds a lock.

Claiming. A due delivery is claimed by bumping its ``attempts`` and pushing ``next_attempt_at``
out by ``LEASE`` in one transaction: on PostgreSQL the candidates are selected ``FOR UPDATE SKIP
LOCKED`` (concurrent workers take disjoint rows without waiting), on SQLite the transaction is
``BEGIN IMMEDIATE`` (workers take turns). The bumped ``attempts`` is the claim's fencing token:
the result is written only if it still matches, so a worker whose lease ran out (it hung or
died) cannot overwrite the work of the one that took over. The lease is short (``LEASE``, 25 s)
and renewed for the rest of the batch before a send that could outlast it, so a worker that dies
mid-batch holds its claims for at most 25 s; the delivery is then sent again: delivery is at least once, and
receivers de-duplicate on ``webhook-id``.

Retries. After the n-th failed attempt the next one is due ``5 s * 2**(n-1)`` later (5 s, 10 s,
20 s, ... 11.4 h); after ``MAX_ATTEMPTS`` (15, the last about 22.8 hours after the first) the
delivery is ``failed``. 2xx is success; anything else, redirects included (never followed), is a
failure. 410 Gone disables the endpoint at once; an endpoint with no success for
``FAILING_LIMIT`` (3 days) is disabled too, with the reason in ``disabled_reason``.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import work_queue
from api.db import utcnow
from api.extensions import Session as ScopedSession
from api.fields import to_utc_text
from api.webhooks import service, signing, ssrf, transport
from api.webhooks.dispatch import dispatch_pending
from api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.work_queue import retry_delay, transaction as _transaction

log = logging.getLogger("boardroom.webhooks")

FIRST_RETRY = work_queue.FIRST_RETRY
MAX_ATTEMPTS = 15
FAILING_LIMIT = timedelta(days=3)
TIMEOUT_SECONDS = 10.0
BATCH = 10
# A claim's lease is renewed before each send, so it only has to outlast one send (at most
# TIMEOUT_SECONDS plus the address check): a live claim never expires, and a worker that dies
# mid-batch leaves its claims for another worker within LEASE.
LEASE = timedelta(seconds=25)
# Renew when less than one send (and its address check) is left on the lease; quick sends never renew.
RENEW_BEFORE = timedelta(seconds=TIMEOUT_SECONDS + 5)
POLL_SECONDS = 1.0
ERROR_TEXT_MAX = 500

Clock = Callable[[], datetime]
Poster = Callable[..., transport.DeliveryResult]


@dataclass(frozen=True)
class Claim:
    """One delivery this worker owns until it records the result (or its lease runs out)."""

    delivery_id: str
    endpoint_id: str
    attempt: int  # the fencing token: the delivery's attempts after claiming
    url: str
    secrets: tuple[str, ...]
    body: str


@dataclass
class Stats:
    dispatched: int = 0
    attempts: int = 0
    succeeded: int = 0
    failed: int = 0
    sent_ids: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"dispatched {self.dispatched} events; {self.attempts} attempts "
                f"({self.succeeded} succeeded, {self.failed} failed)")


def dispatch_all(session: Session, now: datetime) -> int:
    """Fan out every undispatched event, a batch per transaction; return how many."""
    total = 0
    while True:
        with _transaction(session):
            handled = dispatch_pending(session, now)
        total += handled
        if not handled:
            return total


def claim_due(session: Session, now: datetime, limit: int = BATCH) -> list[Claim]:
    """Claim up to ``limit`` deliveries that are due now on active endpoints."""
    with _transaction(session):
        active = select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True))
        deliveries = work_queue.claim(session, WebhookDelivery, now, LEASE, limit,
                                      WebhookDelivery.endpoint_id.in_(active), order_by=[WebhookDelivery.created_at])
        claims = []
        for delivery in deliveries:
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
            claims.append(Claim(delivery_id=delivery.id, endpoint_id=endpoint.id, attempt=delivery.attempts,
                                url=endpoint.url, secrets=tuple(service.signing_secrets(endpoint, now)),
                                body=delivery.payload))
    return claims


def send(claim: Claim, now: datetime, *, allow_loopback: bool, resolver: ssrf.Resolver = ssrf.system_resolver,
         post: Poster = transport.post) -> transport.DeliveryResult:
    """Resolve and check the target afresh, then POST the signed body to the pinned address."""
    try:
        target = ssrf.resolve_for_send(claim.url, allow_loopback=allow_loopback, resolver=resolver)
    except ssrf.UnsafeTarget as exc:
        return transport.DeliveryResult(status_code=None, duration_ms=0, error=f"refused: {exc}",
                                        response_excerpt="")
    body = claim.body.encode("utf-8")
    headers = signing.headers(list(claim.secrets), claim.delivery_id, int(now.timestamp()), body)
    return post(target, headers, body, timeout=TIMEOUT_SECONDS)


def _failure_text(result: transport.DeliveryResult) -> str:
    if result.error:
        return result.error[:ERROR_TEXT_MAX]
    code = result.status_code
    if code is not None and 300 <= code < 400:
        return f"HTTP {code}: redirects are not followed; register the final URL."
    excerpt = " ".join(result.response_excerpt.split())[:200]
    return f"HTTP {code}" + (f": {excerpt}" if excerpt else "")


def record(session: Session, claim: Claim, result: transport.DeliveryResult, attempted_at: datetime,
           now: datetime) -> str | None:
    """Store one attempt and its consequences; return the delivery's new status (None if no longer ours)."""
    with _transaction(session):
        delivery = session.get(WebhookDelivery, claim.delivery_id, with_for_update=True, populate_existing=True)
        if delivery is None:
            return None  # the endpoint was deleted meanwhile
        session.add(WebhookAttempt(delivery_id=delivery.id, attempted_at=attempted_at,
                                   status_code=result.status_code, duration_ms=result.duration_ms,
                                   error=None if result.ok else _failure_text(result)))
        if delivery.attempts != claim.attempt or delivery.status != "pending":
            return None  # the lease ran out, or someone re-queued it: the newer claim decides
        delivery.last_status_code = result.status_code
        endpoint = session.get(WebhookEndpoint, claim.endpoint_id, with_for_update=True, populate_existing=True)
        if result.ok:
            delivery.status, delivery.last_error, delivery.next_attempt_at = "succeeded", None, None
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
            return delivery.status
        delivery.last_error = _failure_text(result)
        if result.status_code == 410:
            _disable(endpoint, f"The endpoint answered 410 Gone on {to_utc_text(now)}, so deliveries stopped. "
                               "Set active to true to resume.")
            delivery.status, delivery.next_attempt_at = "failed", None
            return delivery.status
        if endpoint.failing_since is None:
            endpoint.failing_since = attempted_at
        elif now - endpoint.failing_since >= FAILING_LIMIT:
            _disable(endpoint, f"Every delivery has failed since {to_utc_text(endpoint.failing_since)} "
                               f"(last: {delivery.last_error}), so deliveries stopped after "
                               f"{FAILING_LIMIT.days} days. Fix the receiver, then set active to true to resume.")
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = "failed", None
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        return delivery.status


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    if endpoint.active:
        endpoint.active = False
        endpoint.disabled_reason = reason
        log.warning("webhook %s disabled: %s", endpoint.id, reason)


def renew(session: Session, claims: list[Claim], now: datetime) -> None:
    """Extend the lease of claims still held (the heartbeat before a send that might outlast it)."""
    _update_held(session, claims, next_attempt_at=now + LEASE)


def release(session: Session, claims: list[Claim], now: datetime) -> None:
    """Hand back claims that were never sent (a clean stop), so they are due again at once."""
    _update_held(session, claims, attempts=WebhookDelivery.attempts - 1, next_attempt_at=now)


def _held(claims: list[Claim]) -> list[tuple[str, int]]:
    return [(c.delivery_id, c.attempt) for c in claims]


def _update_held(session: Session, claims: list[Claim], **values: Any) -> None:
    """Change the deliveries this worker still holds: the attempt it claimed is still theirs (fencing)."""
    work_queue.update_held(session, WebhookDelivery, _held(claims), **values)


def drain(session: Session, *, clock: Clock = utcnow, allow_loopback: bool,
          resolver: ssrf.Resolver = ssrf.system_resolver, post: Poster = transport.post,
          stop: threading.Event | None = None) -> Stats:
    """Dispatch every waiting event, then send everything due, until nothing is due (or ``stop`` is set)."""
    stats = Stats()
    stats.dispatched = dispatch_all(session, clock())

    def handle(claim: Claim) -> None:
        attempted_at = clock()
        result = send(claim, attempted_at, allow_loopback=allow_loopback, resolver=resolver, post=post)
        record(session, claim, result, attempted_at, clock())
        stats.attempts += 1
        stats.sent_ids.append(claim.delivery_id)
        if result.ok:
            stats.succeeded += 1
        else:
            stats.failed += 1
        log.info("delivery %s attempt %d: %s", claim.delivery_id, claim.attempt, result.status_code or result.error)

    work_queue.run_claims(session, WebhookDelivery, claim_due, handle, held=_held, lease=LEASE,
                          renew_before=RENEW_BEFORE, clock=clock, stop=stop)
    return stats


# Other queues this worker process drains after each webhook pass (invitation emails: ``api.mail``), registered
# by ``create_app``: called with (session, stop), they return their stats (``attempts`` and a readable str).
ALSO_DRAIN: dict[str, Callable[[Session, threading.Event | None], Any]] = {}


def register_drain(name: str, drain_queue: Callable[[Session, threading.Event | None], Any]) -> None:
    ALSO_DRAIN[name] = drain_queue


def drain_others(session: Session, stop: threading.Event | None = None) -> list[tuple[str, Any]]:
    """One pass over each registered queue; a failing queue is logged and does not stop the others."""
    results = []
    for name, drain_queue in ALSO_DRAIN.items():
        try:
            results.append((name, drain_queue(session, stop)))
        except Exception:
            log.exception("%s worker pass failed; retrying", name)
            session.rollback()
    return results


def run(session: Session, *, allow_loopback: bool, stop: threading.Event, clock: Clock = utcnow,
        poll_seconds: float = POLL_SECONDS, **kwargs: Any) -> Stats:
    """Drain, wait ``poll_seconds``, repeat, until ``stop`` is set; return the totals."""
    total = Stats()
    while not stop.is_set():
        try:
            stats = drain(session, clock=clock, allow_loopback=allow_loopback, stop=stop, **kwargs)
        except Exception:
            log.exception("webhook worker pass failed; retrying")
            session.rollback()
            stats = Stats()
        total.dispatched += stats.dispatched
        total.attempts += stats.attempts
        total.succeeded += stats.succeeded
        total.failed += stats.failed
        others = sum(result.attempts for _name, result in drain_others(session, stop))
        if not stats.attempts and not stats.dispatched and not others:
            stop.wait(poll_seconds)
    return total


# --- shell command ------------------------------------------------------------------------------

webhooks_cli = AppGroup("webhooks", help="Webhook delivery (and the other queues: invitation emails).")


def allow_loopback_targets(app) -> bool:
    """Loopback receivers are allowed only in development and testing."""
    return app.config.get("BOARDROOM_ENV") in ("development", "testing")


@webhooks_cli.command("deliver")
@click.option("--once", is_flag=True, help="Dispatch and send what is due now, then exit.")
@click.option("--poll", "poll_seconds", type=float, default=POLL_SECONDS, show_default=True,
              help="Seconds to wait when nothing is due.")
def deliver_command(once: bool, poll_seconds: float) -> None:
    """Deliver webhooks and send emails: runs until stopped (SIGTERM or Ctrl-C), or drains once with --once."""
    allow_loopback = allow_loopback_targets(current_app)
    if once:
        stats = drain(ScopedSession(), allow_loopback=allow_loopback)
        click.echo(f"webhooks: {stats}")
        for name, result in drain_others(ScopedSession()):
            click.echo(f"{name}: {result}")
        return
    stop = threading.Event()

    def _stop(_signum, _frame):
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    click.echo("webhooks: delivering (stop with SIGTERM or Ctrl-C)")
    try:
        stats = run(ScopedSession(), allow_loopback=allow_loopback, stop=stop, poll_seconds=poll_seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"webhooks: stopped; {stats}")
