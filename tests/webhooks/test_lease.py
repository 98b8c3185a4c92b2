"""A worker that dies mid-batch holds its claims for under 30 s; a live worker's claims never expire."""

from __future__ import annotations

from datetime import timedelta

from api.db import utcnow
from api.webhooks import worker
from api.webhooks.transport import DeliveryResult
from tests.webhooks.test_worker import BOOKING, register

OK = DeliveryResult(status_code=200, duration_ms=3, error=None, response_excerpt="")


def test_claims_of_a_worker_that_died_are_taken_over_within_30_seconds(partner, partner_org, emit, db):
    register(partner, "http://127.0.0.1:9/hooks")
    for n in range(3):
        emit("booking.created", {**BOOKING, "title": f"B{n}"}, partner_id=partner_org.id)
    session = db()
    now = utcnow()
    worker.dispatch_all(session, now)
    dead = worker.claim_due(session, now)  # ...and the process is killed before it sends anything
    assert len(dead) == 3
    assert worker.claim_due(session, now + timedelta(seconds=10)) == []  # still leased
    taken = worker.claim_due(session, now + timedelta(seconds=30))
    assert sorted(c.delivery_id for c in taken) == sorted(c.delivery_id for c in dead)
    assert all(new.attempt == 2 for new in taken)


def test_a_live_worker_keeps_its_batch_however_long_the_sends_take(partner, partner_org, emit, db):
    """Each send may take up to the 10 s timeout; the lease is renewed before each, so nobody steals."""
    register(partner, "http://127.0.0.1:9/hooks")
    for n in range(6):
        emit("booking.created", {**BOOKING, "title": f"B{n}"}, partner_id=partner_org.id)
    session = db()
    start = utcnow()
    times = [start]
    stolen = []

    def clock():
        return times[-1]

    def slow_post(target, headers, body, timeout):
        times.append(times[-1] + timedelta(seconds=timeout))  # every send takes the whole timeout
        stolen.extend(worker.claim_due(session, clock()))  # another worker polling meanwhile
        return OK

    stats = worker.drain(session, clock=clock, allow_loopback=True, post=slow_post,
                         resolver=lambda host: ["127.0.0.1"])
    assert stats.succeeded == 6
    assert times[-1] - start == timedelta(seconds=60)  # longer than a lease: renewal kept the claims
    assert stolen == []
