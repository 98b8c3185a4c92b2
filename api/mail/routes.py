"""A booking's invitation emails, for coordinators to see who was told what."""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from api.bookings import service as bookings
from api.extensions import Session
from api.mail import messages
from api.mail.schemas import MessageListArgs, MessageSchema
from api.web import Blueprint, paginate

blp = Blueprint("messages", __name__, url_prefix="/api/v1/bookings",
                description="Invitation emails (iMIP) sent about a booking: requests, updates, cancellations and "
                            "reminders, one per person (coordinators only).")


@blp.route("/<uuid:booking_id>/messages")
class BookingMessages(MethodView):
    @blp.access("coordinator")
    @blp.arguments(MessageListArgs, location="query", as_kwargs=True)
    @blp.response(200, MessageSchema(many=True))
    @blp.paginate()
    @blp.errors(404)
    def get(self, booking_id, pagination_parameters, **args):
        """List a booking's emails

        One row per message and person, newest first: recipient, `kind`, `status`, `attempts`, `last_error` and
        `sent_at`. Messages are written with the change that causes them and sent by the worker at least once,
        with backoff; each keeps one `Message-ID` across retries. Filters `status` and `kind`; `updated_since`
        filters on `updated_at`.
        """
        session = Session()
        booking = bookings.get_booking(session, g.principal, str(booking_id))
        return paginate(session, messages.list_messages(booking.id, args), pagination_parameters)
