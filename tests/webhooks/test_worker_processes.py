"""Worker processes against a committed database: no event lost, none sent twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker
from standardwebhooks import Webhook

from api.db import make_engine
from api.outbox import OutboxEvent
from api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.webhooks.signing import new_secret
from tests.conftest import ROOT
from tests.webhooks.conftest import flask_cmd, run_once, worker_env


@pytest.fixture
def committed(committed_db):
    """A session on the committed database; hooks made through it are deleted afterwards."""
    engine = make_engine(committed_db)
    session = sessionmaker(engine, expire_on_commit=False)()
    yield session
    session.rollback()
    session.execute(delete(WebhookEndpoint))
    session.commit()
    session.close()
    engine.dispose()


def add_hook(session, url: str) -> WebhookEndpoint:
    hook = WebhookEndpoint(partner_id=None, url=url, events=["booking.created"], secret=new_secret(), active=True)
    session.add(hook)
    session.commit()
    return hook


def test_event_committed_before_the_process_died_is_delivered_by_a_later_run(committed_db, committed, receiver):
    hook = add_hook(committed, receiver.url)
    # The API side: the change and its event commit together, then the process is killed outright
    # before anything could deliver (no atexit, no cleanup).
    script = textwrap.dedent("""
        import os, signal
        from api import create_app, outbox
        from api.extensions import Session
        app = create_app()
        with app.app_context():
            outbox.emit(Session(), "booking.created", entity_type="booking", entity_id="b-killed",
                        partner_id=None, payload={"id": "b-killed", "title": "Committed then killed"})
            Session.commit()
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    died = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, env=worker_env(committed_db),
                          capture_output=True, text=True, timeout=120)
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert receiver.requests == []

    done = run_once(committed_db)
    assert done.returncode == 0, done.stderr
    [request] = receiver.requests
    payload = Webhook(hook.secret).verify(request["body"], request["headers"])
    assert payload["data"] == {"id": "b-killed", "title": "Committed then killed"}
    assert run_once(committed_db).returncode == 0
    assert len(receiver.requests) == 1  # delivered once, not again by the next run


def test_two_workers_deliver_a_thousand_events_exactly_once_each(committed_db, committed, receiver):
    events = 1000
    hook = add_hook(committed, receiver.url)
    for n in range(events):
        committed.add(OutboxEvent(type="booking.created", entity_type="booking", entity_id=f"b{n}",
                                  partner_id=None, payload={"id": f"b{n}", "n": n}))
    committed.commit()

    workers = [subprocess.Popen(flask_cmd("webhooks", "deliver", "--poll", "0.2"), cwd=ROOT,
                                env=worker_env(committed_db), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(receiver.requests) < events:
            if any(w.poll() is not None for w in workers):
                break
            time.sleep(0.2)
        time.sleep(1.0)  # let any duplicate that was going to happen arrive
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        outputs = [w.communicate(timeout=60) for w in workers]

    for w, (out, err) in zip(workers, outputs):
        assert w.returncode == 0, err
        assert "stopped" in out
    ids = receiver.ids()
    stored = set(committed.scalars(select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == hook.id)))
    attempts = committed.scalar(select(func.count()).select_from(WebhookAttempt).join(WebhookDelivery)
                                .where(WebhookDelivery.endpoint_id == hook.id))
    statuses = dict(committed.execute(select(WebhookDelivery.status, func.count())
                                      .where(WebhookDelivery.endpoint_id == hook.id)
                                      .group_by(WebhookDelivery.status)).all())
    received = sorted(Webhook(hook.secret).verify(r["body"], r["headers"])["data"]["n"] for r in receiver.requests)
    print(f"\n[{committed_db.split(':')[0]}] events={events} deliveries={len(stored)} received={len(ids)} "
          f"distinct={len(set(ids))} duplicates={len(ids) - len(set(ids))} attempts={attempts} "
          f"statuses={statuses} workers={[o.strip().splitlines()[-1] for o, _ in outputs]}")
    assert len(ids) == events and len(set(ids)) == events
    assert set(ids) == stored
    assert received == list(range(events))
    assert statuses == {"succeeded": events} and attempts == events
