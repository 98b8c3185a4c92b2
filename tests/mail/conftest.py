"""Email fixtures: a real SMTP server (aiosmtpd) in the test process, a board with people, a worker pass."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

# The four calendar parsers live with the rendering tests; share them.
from tests.calendar.conftest import icaljs, parse_all, snapshot  # noqa: F401


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class RecordingHandler:
    """Keeps every message accepted; answers DATA with the next of ``refusals`` (e.g. "451 ...") first."""

    received: list[Received] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    refused: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refusals:
                self.refused.append(envelope.content)
                return self.refusals.pop(0)
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    handler.url = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


@pytest.fixture
def send_mail(db, app, smtp_server):
    """One worker pass over the email queue, through SMTP to ``smtp_server``, as if the time were ``now``."""
    from api.config import parse_smtp_url
    from api.mail import worker
    from api.mail.transport import SmtpTransport

    def _send(now: datetime | None = None):
        kwargs = {"clock": lambda: now} if now is not None else {}
        return worker.drain(db(), SmtpTransport(parse_smtp_url(smtp_server.url), timeout=5),
                            app.config["ORGANIZER_EMAIL"], **kwargs)

    return _send


@pytest.fixture
def people(create_trust, create_contact, create_speaker):
    """A trust with three board members, and three speakers."""
    trust = create_trust(name="Leeds Teaching Hospitals NHS Trust")
    contacts = [create_contact(trust, name=name, email=address) for name, address in (
        ("Siân Llŷr", "sian@example.nhs.uk"), ("Ada Jones", "ada@example.nhs.uk"), ("Ben Cole", "ben@example.nhs.uk"))]
    speakers = [create_speaker(name=name, email=address) for name, address in (
        ("Owain Price", "owain@example.org"), ("Dr Amara Okafor", "amara@example.org"),
        ("Priya Shah", "priya@example.org"))]
    return {"trust": snapshot(trust), "contacts": [snapshot(c) for c in contacts],
            "speakers": [snapshot(s) for s in speakers]}


def future(days: int = 30, hour: int = 10) -> str:
    moment = (datetime.now().astimezone() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment.isoformat()


@pytest.fixture
def confirmed_booking(coordinator, people):
    """Through the API: a future virtual booking with two speakers and three attendees, then confirmed."""

    def _make(days: int = 30, **extra):
        body = {"trust_id": people["trust"].id, "kind": "board_development", "format": "virtual",
                "starts_at": future(days), "video_url": "https://meet.example/abc", "title": "Digital board session",
                "attendee_ids": [c.id for c in people["contacts"]], **extra}
        r = coordinator.post("/api/v1/bookings", json=body)
        assert r.status_code == 201, r.get_data(as_text=True)
        booking = r.json
        for speaker, role in zip(people["speakers"][:2], ("facilitator", "guest")):
            r = coordinator.put(f"/api/v1/bookings/{booking['id']}/speakers/{speaker.id}", json={"role": role})
            assert r.status_code == 200, r.get_data(as_text=True)
        r = coordinator.patch(f"/api/v1/bookings/{booking['id']}", json={"status": "confirmed"})
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.json

    return _make


def messages_of(client, booking_id: str, **query) -> list[dict]:
    r = client.get(f"/api/v1/bookings/{booking_id}/messages", query_string={"page_size": 100, **query})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json
