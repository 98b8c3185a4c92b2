"""Outcome endpoints: one outcome per delivered booking, and next steps as their own resource."""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView

from api.auth import ALL_ROLES
from api.errors import PreconditionFailed
from api.extensions import Session
from api.outcomes import service
from api.outcomes.schemas import NextStepListArgs, NextStepPatchSchema, NextStepSchema, OutcomeSchema
from api.web import (IF_MATCH_PARAM, Blueprint, conditional, etag_of, paginate, readable, require_if_match,
                     write_guarded)

blp = Blueprint("outcomes", __name__, url_prefix="/api/v1",
                description="What each delivered session achieved, and the next steps boards committed to.")

OUTCOME_EXAMPLE = {
    "summary": "The board agreed that digital means redesigning services around patients, not buying IT.",
    "attendance": 14,
    "themes": ["what-digital-means", "prioritisation"],
    "digital_definitions": ["Services designed around patients", "Using data to decide"],
    "next_steps": [{"description": "Add a digital item to every board agenda", "owner": "Chair",
                    "due_on": "2026-04-30", "done": False}],
    "confidence_before": 2, "confidence_after": 4, "feedback_score": 9,
}


@blp.route("/bookings/<uuid:booking_id>/outcome")
class BookingOutcome(MethodView):
    @blp.access(*ALL_ROLES)
    @readable(blp)
    @blp.response(200, OutcomeSchema)
    @blp.errors(404, 409)
    def get(self, booking_id):
        """Get a booking's outcome

        409 while the booking is not `delivered`; 404 until an outcome is recorded. Partners read the outcomes
        of their own partner's bookings, and see only `summary` and `next_steps`.
        """
        outcome = service.get_outcome(Session(), g.principal, str(booking_id))
        return conditional(etag_of(outcome, service.view(g.principal)), service.present(outcome, g.principal))

    @blp.access("coordinator")
    @blp.doc(parameters=[{**IF_MATCH_PARAM, "required": False,
                          "description": "Optional: the outcome ETag you read; a stale one (or any, before an "
                                         "outcome exists) is 412."}])
    @blp.arguments(OutcomeSchema, example=OUTCOME_EXAMPLE)
    @blp.response(200, OutcomeSchema)
    @blp.errors(404, 409, 412)
    def put(self, data, booking_id):
        """Record a booking's outcome

        Creates or replaces the whole outcome (always 200). `next_steps` replaces the list: a step sent with its
        `id` keeps it (and its `done_at`), steps left out are removed. Unknown `themes` are 422. Only for
        `delivered` bookings (409 otherwise). Emits the `outcome.recorded` webhook event when anything changed.
        """
        session = Session()
        booking = service.booking_in_scope(session, g.principal, str(booking_id))
        outcome = service.outcome_of(session, booking)
        if "If-Match" in request.headers:
            if outcome is None:
                raise PreconditionFailed("No outcome has been recorded yet, so If-Match cannot match.")
            require_if_match(etag_of(outcome, "full"))
        outcome = service.record_outcome(session, g.principal, booking, outcome, data)
        return outcome, 200, {"ETag": etag_of(outcome, "full")}


@blp.route("/next-steps")
class NextSteps(MethodView):
    @blp.access(*ALL_ROLES)
    @blp.arguments(NextStepListArgs, location="query", as_kwargs=True)
    @blp.response(200, NextStepSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters, **args):
        """List next steps

        Across all outcomes, soonest due first (undated last). Partners see those of their own bookings.
        """
        session = Session()
        steps = paginate(session, service.list_next_steps(g.principal, args), pagination_parameters)
        return service.present_steps(session, steps)


@blp.route("/next-steps/<uuid:step_id>")
class NextStepById(MethodView):
    @blp.access(*ALL_ROLES)
    @readable(blp)
    @blp.response(200, NextStepSchema)
    @blp.errors(404)
    def get(self, step_id):
        """Get a next step"""
        session = Session()
        step = service.get_next_step(session, g.principal, str(step_id))
        return conditional(etag_of(step), service.present_steps(session, [step])[0])

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.arguments(NextStepPatchSchema, example={"done": True})
    @blp.response(200, NextStepSchema)
    @blp.errors(404)
    def patch(self, data, step_id):
        """Update a next step

        Tick it off with `{"done": true}` (records `done_at`; `false` clears it).
        """
        session = Session()
        step = service.get_next_step(session, g.principal, str(step_id))
        require_if_match(etag_of(step))
        step = service.update_next_step(session, g.principal, step, data)
        return service.present_steps(session, [step])[0], 200, {"ETag": etag_of(step)}
