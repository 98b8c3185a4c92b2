"""Change request endpoints: a partner asks to change a booking it can no longer edit; coordinators answer."""

from __future__ import annotations

from flask import g, url_for
from flask.views import MethodView

from api.auth import ALL_ROLES
from api.bookings import service as bookings
from api.change_requests import service
from api.change_requests.schemas import ChangeRequestListArgs, ChangeRequestSchema, ResolutionSchema
from api.csv_output import documents_csv, dump_csv, wants_csv
from api.extensions import Session
from api.web import Blueprint, conditional, etag_of, paginate, readable, require_if_match, write_guarded

blp = Blueprint("change_requests", __name__, url_prefix="/api/v1",
                description="A partner's requests to change a booking that is no longer `requested` (time, format, "
                            "place, video link), and the programme team's answers.")


@blp.route("/bookings/<uuid:booking_id>/change-requests")
class BookingChangeRequests(MethodView):
    @blp.access("partner")
    @blp.arguments(ChangeRequestSchema, example={"starts_at": "2027-03-05T14:00:00Z",
                                                 "message": "The chair cannot make the morning."})
    @blp.response(201, ChangeRequestSchema, headers={"Location": {"description": "URL of the change request",
                                                                  "schema": {"type": "string"}}})
    @blp.errors(404, 409)
    def post(self, data, booking_id):
        """Ask to change a booking

        For the partner's own booking that has a time and is no longer `requested` (a `requested` booking is
        changed with PATCH; 409 here, as for a cancelled or delivered booking). Name any of `starts_at`,
        `ends_at`, `format`, `location`, `video_url` with the value wanted, and/or write a `message`: at least
        one (422). The booking is unchanged until the programme team accepts; the answer is
        `change_request.resolved` (webhook) and the request's `status`. Sends `booking.change_requested`.
        """
        session = Session()
        booking = bookings.get_booking(session, g.principal, str(booking_id))
        change_request = service.create(session, g.principal, booking, data)
        return change_request, 201, {"ETag": etag_of(change_request),
                                     "Location": url_for("change_requests.ChangeRequestById",
                                                         change_request_id=change_request.id)}


@blp.route("/change-requests")
class ChangeRequests(MethodView):
    @blp.access(*ALL_ROLES)
    @blp.arguments(ChangeRequestListArgs, location="query", as_kwargs=True)
    @blp.response(200, ChangeRequestSchema(many=True))
    @documents_csv(blp)
    @blp.paginate()
    def get(self, pagination_parameters, **args):
        """List change requests

        Oldest first; filters `status` and `booking_id`. Partners see only their own partner's requests.
        """
        change_requests = paginate(Session(), service.list_change_requests(g.principal, args), pagination_parameters)
        if wants_csv():
            return dump_csv(ChangeRequestSchema(), change_requests, "change-requests.csv")
        return change_requests


@blp.route("/change-requests/<uuid:change_request_id>")
class ChangeRequestById(MethodView):
    @blp.access(*ALL_ROLES)
    @readable(blp)
    @blp.response(200, ChangeRequestSchema)
    @blp.errors(404)
    def get(self, change_request_id):
        """Get a change request

        Another partner's request is 404.
        """
        change_request = service.get(Session(), g.principal, str(change_request_id))
        return conditional(etag_of(change_request), change_request)

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.arguments(ResolutionSchema, example={"status": "accepted", "response": "Moved to 14:00 as asked."})
    @blp.response(200, ChangeRequestSchema)
    @blp.errors(404, 409)
    def patch(self, data, change_request_id):
        """Accept or decline a change request

        `status: accepted` applies the requested change to the booking as a coordinator's PATCH would, under
        every booking rule: a conflict is 409 with `conflicts` and the request stays `open`; an invalid value
        is 422. `declined` leaves the booking as it is. `response` is the answer the partner reads. A request
        already accepted or declined is 409. Sends `change_request.resolved` (and, when accepted, the
        booking's own `booking.updated`).
        """
        session = Session()
        change_request = service.get(session, g.principal, str(change_request_id))
        require_if_match(etag_of(change_request))
        change_request = service.resolve(session, g.principal, change_request, data)
        return change_request, 200, {"ETag": etag_of(change_request)}
