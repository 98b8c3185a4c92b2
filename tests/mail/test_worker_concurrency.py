"""Several email workers at once, each with its own connection: every message is sent exactly once
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.orm import sessionmaker

from api.db import make_engine, utcnow
from api.mail.transport import SendResult
from tests.conftest import migrate

WORKERS = 4
MESSAGES = 40


class Recorder:
    """A transport that only counts (thread-safe)."""

    def __init__(self):
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def send(self, sender, recipient, data, name):
        with self.lock:
            self.sent.append(name)
        return SendResult(ok=True)


def test_concurrent_workers_send_each_message_once(fresh_url):
    from api.bookings.models import Booking
    from api.mail import worker
    from api.mail.models import EmailMessage
    from api.trusts.models import Trust

    migrate(fresh_url)
    engine = make_engine(fresh_url)
    try:
        Session = sessionmaker(bind=engine, expire_on_commit=False)
        now = utcnow()
        with Session() as session:
            trust = Trust(name="Concurrency Trust", ods_code="CC1", region="london", trust_type="acute",
                          timezone="Europe/London")
            session.add(trust)
            session.flush()
            booking = Booking(trust_id=trust.id, kind="board_development", format="virtual", status="confirmed",
                              live=True, starts_at=now + timedelta(days=9), ends_at=now + timedelta(days=9, hours=3),
                              timezone="Europe/London", title="Race", sequence=0)
            session.add(booking)
            session.flush()
            for n in range(MESSAGES):
                session.add(EmailMessage(booking_id=booking.id, recipient_type="contact", recipient_id=f"c{n}",
                                         recipient_email=f"p{n}@example.org", kind="request", sequence=0,
                                         message_id=f"<m{n}@example.org>", body=f"Subject: {n}\r\n\r\nhi\r\n",
                                         status="pending", attempts=0, next_attempt_at=now,
                                         not_after=booking.starts_at))
            session.commit()

        barrier = threading.Barrier(WORKERS)
        recorder = Recorder()
        errors: list[BaseException] = []

        def work():
            session = Session()
            try:
                barrier.wait(timeout=30)
                worker.drain(session, recorder, "programme@example.org")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                session.close()

        threads = [threading.Thread(target=work) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert len(recorder.sent) == MESSAGES and len(set(recorder.sent)) == MESSAGES
        with Session() as session:
            rows = session.query(EmailMessage).all()
            assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
    finally:
        engine.dispose()
