"""Connecting invitation emails to the app: booking writes queue them, the worker sends them, /metrics counts them."""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy.orm import Session

from api.bookings.events import register_listener
from api.mail import messages, transport, worker
from api.mail.metrics import EmailCollector
from api.registrations import service as registrations
from api.webhooks.worker import register_drain


def init_app(app: Flask, register_collector) -> None:
    register_listener("mail", messages.on_booking_changed)
    registrations.on_status_changed(messages.on_registration_changed)

    def send_due(session: Session, stop: threading.Event | None) -> worker.MailStats:
        return worker.drain(session, transport.from_config(app.config), app.config["ORGANIZER_EMAIL"], stop=stop)

    register_drain("email", send_due)  # `flask --app wsgi webhooks deliver` sends emails too
    register_collector(app, EmailCollector())
