"""Attendee feedback on the API: survey links for delivered bookings, and the answers given through them."""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from api.auth import READERS
from api.csv_output import answers_csv
from api.extensions import Session
from api.feedback import service
from api.feedback.schemas import FeedbackListArgs, NewSurveyLinkSchema, SurveyLinkSchema, SurveyResponseSchema
from api.web import Blueprint, base_url, conditional, etag_of, no_store, paginate, readable, require_if_match, write_guarded

blp = Blueprint("feedback", __name__, url_prefix="/api/v1/bookings",
                description="Attendee feedback: survey links board members answer in a browser, and their answers.")


@blp.route("/<uuid:booking_id>/survey")
class BookingSurvey(MethodView):
    @no_store
    @blp.access("coordinator")
    @blp.response(201, NewSurveyLinkSchema, example={
        "id": "5a0c3e1b-2f4d-4e6a-8b9c-0d1e2f3a4b5c", "booking_id": "6f1c1d2e-6a9b-4b7e-9f3a-2d7c1e0b5a11",
        "responses": 0, "created_at": "2026-03-12T13:05:00Z", "updated_at": "2026-03-12T13:05:00Z",
        "url": "https://boardroom.example/survey/brs_9x2hQ0d6pT1Vb4mYk0eWc8sZ3aLr7uNj5fGq2iHy1oE",
        "token": "brs_9x2hQ0d6pT1Vb4mYk0eWc8sZ3aLr7uNj5fGq2iHy1oE"})
    @blp.errors(404, 409)
    def post(self, booking_id):
        """Create (or replace) a booking's attendee survey link

        Only for `delivered` bookings (409 otherwise). Returns the form's secret `url` and `token` once; the
        token is stored hashed. A booking has one live link: creating another replaces it, and the old URL
        answers 404 from then on (answers already given stay). `DELETE` withdraws the link without a new one.
        Board members open the `url` in a browser and answer without an account; each link takes at most
        60 answers an hour. A replay of the same `Idempotency-Key` answers 409 naming the link, not the token.
        """
        link, token = service.create_link(Session(), g.principal, str(booking_id))
        g.response_holds_secret = link.id  # an idempotent replay answers 409 naming the link, not the token
        link.url, link.token = service.survey_url(base_url(), token), token
        return link, 201, {"ETag": etag_of(link)}

    @blp.access("coordinator")
    @readable(blp)
    @blp.response(200, SurveyLinkSchema)
    @blp.errors(404)
    def get(self, booking_id):
        """Get a booking's live survey link (not its token)

        Its id, creation time and how many answers it has taken; the URL itself is shown only when the link
        is created. 404 when the booking has no live link.
        """
        link = service.current_link(Session(), str(booking_id))
        return conditional(etag_of(link), link)

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.response(204)
    @blp.errors(404)
    def delete(self, booking_id):
        """Withdraw a booking's survey link

        Its URL answers 404 from now on; the answers already given stay listed and counted.
        """
        session = Session()
        link = service.current_link(session, str(booking_id))
        require_if_match(etag_of(link))
        service.revoke_link(session, g.principal, link)


@blp.route("/<uuid:booking_id>/feedback")
class BookingFeedback(MethodView):
    @blp.access(*READERS)
    @blp.arguments(FeedbackListArgs, location="query", as_kwargs=True)
    @blp.response(200, SurveyResponseSchema(many=True))
    @answers_csv(blp, SurveyResponseSchema(), "feedback.csv")
    @blp.paginate()
    @blp.errors(404)
    def get(self, booking_id, pagination_parameters, **args):
        """List a booking's attendee feedback

        Every answer given through the booking's survey links (current and withdrawn), oldest first:
        confidence before and after (1-5), usefulness (0-10), what they will do next, and the name given, with
        `contact_id` when it matched one of the booking's attendees. `Accept: text/csv` answers CSV.
        """
        session = Session()
        return paginate(session, service.list_responses(session, str(booking_id), args), pagination_parameters)
