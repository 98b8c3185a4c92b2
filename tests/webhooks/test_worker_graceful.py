"""SIGTERM (what honcho sends on Ctrl-C) lets the worker finish the attempt it is sending."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from api.db import make_engine
from api.outbox import OutboxEvent
from api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.webhooks.signing import new_secret
from tests.conftest import ROOT
from tests.webhooks.conftest import flask_cmd, worker_env


class _Slow(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.arrived.set()
        time.sleep(3)  # the worker is stopped while this attempt is in flight
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args):
        pass


def test_sigterm_during_a_send_finishes_and_records_that_attempt(committed_db):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    server.arrived = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    engine = make_engine(committed_db)
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        hook = WebhookEndpoint(partner_id=None, url=f"http://127.0.0.1:{server.server_address[1]}/hooks",
                               events=["booking.created"], secret=new_secret(), active=True)
        session.add(hook)
        session.commit()
        session.add(OutboxEvent(type="booking.created", entity_type="booking", entity_id="b-graceful",
                                partner_id=None, payload={"id": "b-graceful"}))
        session.commit()
        worker = subprocess.Popen(flask_cmd("webhooks", "deliver", "--poll", "0.2"), cwd=ROOT,
                                  env=worker_env(committed_db), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        assert server.arrived.wait(120), "the worker never sent"
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        assert "webhooks: stopped" in out and "1 succeeded" in out, out
        session.expire_all()
        delivery = session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == hook.id)).one()
        assert delivery.status == "succeeded" and delivery.attempts == 1
        [attempt] = session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id)).all()
        assert attempt.status_code == 200
    finally:
        session.rollback()
        session.execute(delete(WebhookEndpoint))
        session.commit()
        session.close()
        engine.dispose()
        server.shutdown()
        server.server_close()
