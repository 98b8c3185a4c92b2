"""Scrape-time email figures for ``/metrics``: messages by outcome and kind, and how overdue the queue is."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from api.db import utcnow
from api.extensions import Session
from api.mail.models import KINDS, STATUSES, EmailMessage


class EmailCollector:
    """Read from the database at each scrape, so every process and instance reports the same."""

    def collect(self):
        session = Session()
        counts = {(status, kind): n for status, kind, n in session.execute(
            select(EmailMessage.status, EmailMessage.kind, func.count()).group_by(EmailMessage.status, EmailMessage.kind))}
        emails = GaugeMetricFamily("boardroom_emails", "Invitation emails by outcome (pending, sent, failed, "
                                   "expired) and kind.", labels=["status", "kind"])
        for status in STATUSES:
            for kind in KINDS:
                emails.add_metric([status, kind], counts.get((status, kind), 0))
        yield emails
        now = utcnow()
        first_due = session.scalar(select(func.min(EmailMessage.next_attempt_at))
                                   .where(EmailMessage.status == "pending"))
        overdue = GaugeMetricFamily("boardroom_email_overdue_seconds",
                                    "How long the most overdue pending email has been due (0 when none).")
        overdue.add_metric([], max(0.0, (now - first_due).total_seconds()) if first_due else 0.0)
        yield overdue
