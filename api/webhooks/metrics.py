"""Scrape-time webhook figures for ``/metrics``: outbox lag and deliveries by status."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from api.db import utcnow
from api.extensions import Session
from api.outbox import OutboxEvent
from api.webhooks.models import WebhookDelivery


class WebhookCollector:
    """Read from the database at each scrape, so every process and instance reports the same."""

    def collect(self):
        session = Session()
        now = utcnow()
        oldest, waiting = session.execute(
            select(func.min(OutboxEvent.occurred_at), func.count()).where(OutboxEvent.dispatched_at.is_(None))).one()
        lag = GaugeMetricFamily("boardroom_outbox_lag_seconds",
                                "Age of the oldest event the worker has not fanned out yet (0 when none waits).")
        lag.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield lag
        pending = GaugeMetricFamily("boardroom_outbox_events_waiting", "Events not yet fanned out to webhooks.")
        pending.add_metric([], waiting or 0)
        yield pending
        counts = dict(session.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)).all())
        deliveries = GaugeMetricFamily("boardroom_webhook_deliveries", "Webhook deliveries by status.",
                                       labels=["status"])
        for status in ("pending", "succeeded", "failed"):
            deliveries.add_metric([status], counts.get(status, 0))
        yield deliveries
        first_due = session.scalar(select(func.min(WebhookDelivery.next_attempt_at))
                                   .where(WebhookDelivery.status == "pending"))
        overdue = GaugeMetricFamily("boardroom_webhook_delivery_overdue_seconds",
                                    "How long the most overdue pending delivery has been due (0 when none).")
        overdue.add_metric([], max(0.0, (now - first_due).total_seconds()) if first_due else 0.0)
        yield overdue
