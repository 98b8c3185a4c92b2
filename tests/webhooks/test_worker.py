"""The delivery worker in-process, with time driven by an injected clock instead of sleeping."""

from __future__ import annotations

from datetime import timedelta

from standardwebhooks import Webhook

from api.db import utcnow
from api.webhooks import worker
from api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.webhooks.transport import DeliveryResult

BOOKING = {"id": "0b9c7f0e-2a53-4c1e-9f7e-1a2b3c4d5e6f", "status": "requested", "title": "Board development"}


def register(client, url, events=("booking.created",)):
    r = client.post("/api/v1/webhooks", json={"url": url, "events": list(events)})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.json


def deliveries(client, hook):
    r = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries")
    assert r.status_code == 200
    return r.json


def test_failure_is_retried_after_the_backoff_with_the_same_webhook_id(partner, partner_org, receiver, emit,
                                                                        deliver):
    hook = register(partner, receiver.url)
    receiver.statuses = [500, 503]
    emit("booking.created", BOOKING, partner_id=partner_org.id)
    t0 = utcnow()
    deliver(t0)
    assert len(receiver.requests) == 1
    [d] = deliveries(partner, hook)
    assert d["status"] == "pending" and d["last_status_code"] == 500 and d["last_error"].startswith("HTTP 500")
    assert d["next_attempt_at"] and d["attempt_count"] == 1

    deliver(t0 + timedelta(seconds=4))  # not yet: the first retry waits 5 s
    assert len(receiver.requests) == 1
    deliver(t0 + timedelta(seconds=5))
    assert len(receiver.requests) == 2
    deliver(t0 + timedelta(seconds=14))  # the second retry waits 10 s more
    assert len(receiver.requests) == 2
    deliver(t0 + timedelta(seconds=15))
    assert len(receiver.requests) == 3

    ids = receiver.ids()
    assert len(set(ids)) == 1 and ids[0] == d["id"]
    payloads = [Webhook(hook["secret"]).verify(r["body"], r["headers"]) for r in receiver.requests]
    assert payloads[0] == payloads[2]
    [d] = deliveries(partner, hook)
    assert d["status"] == "succeeded" and d["attempt_count"] == 3 and d["last_error"] is None
    assert [a["status_code"] for a in d["attempts"]] == [500, 503, 200]
    deliver(t0 + timedelta(hours=1))
    assert len(receiver.requests) == 3


def test_backoff_schedule_doubles_from_five_seconds_and_gives_up_within_a_day():
    delays = [worker.retry_delay(n) for n in range(1, worker.MAX_ATTEMPTS)]
    assert delays[:4] == [timedelta(seconds=5), timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
    assert timedelta(hours=12) < sum(delays, timedelta()) < timedelta(days=1)


def test_gives_up_after_max_attempts(partner, partner_org, emit, deliver, db):
    hook = register(partner, "http://127.0.0.1:9/hooks")  # discard port: nothing listens
    emit("booking.created", BOOKING, partner_id=partner_org.id)
    now = utcnow()
    for _ in range(worker.MAX_ATTEMPTS + 3):
        deliver(now)
        now += timedelta(days=1)
        # keep the endpoint from the 3-day rule, which this test is not about
        db().get(WebhookEndpoint, hook["id"]).failing_since = None
        db().commit()
    [d] = deliveries(partner, hook)
    assert d["status"] == "failed" and d["attempt_count"] == worker.MAX_ATTEMPTS
    assert len(d["attempts"]) == worker.MAX_ATTEMPTS and d["next_attempt_at"] is None
    assert all(a["status_code"] is None and a["error"] for a in d["attempts"])


def test_gone_disables_the_endpoint_and_later_events_wait(partner, partner_org, receiver, emit, deliver):
    hook = register(partner, receiver.url)
    receiver.statuses = [410]
    emit("booking.created", BOOKING, partner_id=partner_org.id)
    deliver(utcnow())
    got = partner.get(f"/api/v1/webhooks/{hook['id']}").json
    assert got["active"] is False and "410 Gone" in got["disabled_reason"]
    emit("booking.created", {**BOOKING, "title": "Second"}, partner_id=partner_org.id)
    deliver(utcnow() + timedelta(hours=2))
    assert len(receiver.requests) == 1
    assert [d["status"] for d in deliveries(partner, hook)] == ["failed"]  # nothing queued while disabled


def test_redirects_are_failures_and_never_followed(partner, partner_org, receiver, emit, deliver):
    hook = register(partner, receiver.url)
    receiver.statuses = [302]
    receiver.extra_headers = {"Location": receiver.url + "/elsewhere"}
    emit("booking.created", BOOKING, partner_id=partner_org.id)
    deliver(utcnow())
    assert [r["path"] for r in receiver.requests] == ["/hooks"]
    [d] = deliveries(partner, hook)
    assert d["status"] == "pending" and d["last_status_code"] == 302 and "redirect" in d["last_error"]


def test_three_days_of_failure_disables_with_a_visible_reason(partner, partner_org, emit, deliver):
    hook = register(partner, "http://127.0.0.1:9/hooks")
    now = utcnow()
    emit("booking.created", BOOKING, partner_id=partner_org.id)
    deliver(now)
    emit("booking.created", {**BOOKING, "title": "Later"}, partner_id=partner_org.id)
    deliver(now + timedelta(days=2))
    assert partner.get(f"/api/v1/webhooks/{hook['id']}").json["active"] is True
    emit("booking.created", {**BOOKING, "title": "Much later"}, partner_id=partner_org.id)
    deliver(now + timedelta(days=3, minutes=1))
    got = partner.get(f"/api/v1/webhooks/{hook['id']}").json
    assert got["active"] is False and "3 days" in got["disabled_reason"]
    assert got["failing_since"] is not None


def test_success_resets_the_failure_clock(partner, partner_org, receiver, emit, deliver):
    hook = register(partner, receiver.url)
    receiver.statuses = [500]
    emit("booking.created", BOOKING, partner_id=partner_org.id)
    now = utcnow()
    deliver(now)
    assert partner.get(f"/api/v1/webhooks/{hook['id']}").json["failing_since"] is not None
    deliver(now + timedelta(seconds=5))
    assert partner.get(f"/api/v1/webhooks/{hook['id']}").json["failing_since"] is None


def test_unsafe_target_at_send_time_is_refused_not_sent(partner, partner_org, emit, deliver, db):
    hook = register(partner, "http://127.0.0.1:9/hooks")
    # As if the name had been re-pointed after registration (DNS rebinding): checked again on send.
    db().get(WebhookEndpoint, hook["id"]).url = "https://10.1.2.3/hooks"
    db().commit()
    emit("booking.created", BOOKING, partner_id=partner_org.id)
    deliver(utcnow())
    [d] = deliveries(partner, hook)
    assert d["last_status_code"] is None and "private" in d["last_error"] and d["last_error"].startswith("refused")


def test_a_stale_claim_cannot_overwrite_the_newer_one(partner, partner_org, emit, db):
    """A worker whose lease ran out records its attempt but does not decide the delivery's state."""
    register(partner, "http://127.0.0.1:9/hooks")
    emit("booking.created", BOOKING, partner_id=partner_org.id)
    session = db()
    now = utcnow()
    worker.dispatch_all(session, now)
    [old] = worker.claim_due(session, now)
    later = now + worker.LEASE + timedelta(seconds=1)
    [new] = worker.claim_due(session, later)  # the first lease expired; another worker takes over
    assert (old.delivery_id, old.attempt + 1) == (new.delivery_id, new.attempt)
    ok = DeliveryResult(status_code=200, duration_ms=3, error=None, response_excerpt="")
    bad = DeliveryResult(status_code=500, duration_ms=3, error=None, response_excerpt="")
    assert worker.record(session, new, ok, later, later) == "succeeded"
    assert worker.record(session, old, bad, now, later) is None
    delivery = session.get(WebhookDelivery, new.delivery_id, populate_existing=True)
    assert delivery.status == "succeeded"
    assert session.query(WebhookAttempt).filter_by(delivery_id=delivery.id).count() == 2


def test_claims_are_disjoint_and_released_on_stop(partner, partner_org, emit, db):
    register(partner, "http://127.0.0.1:9/hooks")
    for n in range(5):
        emit("booking.created", {**BOOKING, "title": f"B{n}"}, partner_id=partner_org.id)
    session = db()
    now = utcnow()
    assert worker.dispatch_all(session, now) == 5
    first = worker.claim_due(session, now, limit=3)
    second = worker.claim_due(session, now, limit=3)
    assert len(first) == 3 and len(second) == 2
    assert not {c.delivery_id for c in first} & {c.delivery_id for c in second}
    assert worker.claim_due(session, now) == []
    worker.release(session, first, now)
    assert {c.delivery_id for c in worker.claim_due(session, now)} == {c.delivery_id for c in first}
