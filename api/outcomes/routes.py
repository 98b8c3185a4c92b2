"""Outcome endpoints: one outcome per delivered booking, and next steps as their own resource."""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView

from api.auth import ALL_ROLES
from api.csv_output import answers_csv
from api.errors import NotFound, PreconditionFailed
from api.extensions import Session
from api.outcomes import service
from api.outcomes.schemas import (NextStepListArgs, NextStepPatchSchema, NextStepSchema, OutcomePatchSchema,
                                  OutcomeSchema)
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
                          "description": "Required once an outcome exists (428 without it): the outcome's ETag "
                                         "you read, or `*`. Leave it out to record the first outcome; sent "
                                         "before an outcome exists, it is 412."}])
    @blp.arguments(OutcomeSchema, example=OUTCOME_EXAMPLE)
    @blp.response(200, OutcomeSchema)
    @blp.errors(404, 409, 412, 428)
    def put(self, data, booking_id):
        """Record a booking's outcome

        Records the outcome, or replaces the whole of an existing one (always 200). Replacing needs
        `If-Match` (428 without it, 412 if stale), so a write never silently overwrites one you have not
        read; to change some fields, PATCH. `next_steps` replaces the list: a step sent with its `id` keeps
        it (and its `done_at`), a step without `id` is new, steps left out are removed. Unknown `themes`
        are 422. Only for `delivered` bookings (409 otherwise). Emits the `outcome.recorded` webhook event
        when anything changed.
        """
        session = Session()
        booking = service.booking_in_scope(session, g.principal, str(booking_id))
        outcome = service.outcome_of(session, booking)
        if outcome is not None:
            require_if_match(etag_of(outcome, "full"))
        elif "If-Match" in request.headers:
            raise PreconditionFailed("No outcome has been recorded yet, so If-Match cannot match.")
        outcome = service.record_outcome(session, g.principal, booking, outcome, data)
        return outcome, 200, {"ETag": etag_of(outcome, "full")}

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.arguments(OutcomePatchSchema, example={"feedback_score": 10, "next_steps": [
        {"id": "8d3e5a1c-2b4f-4c6d-9e7f-0a1b2c3d4e5f", "done": True},
        {"description": "Share the digital strategy with the council of governors", "owner": "Chair"}]})
    @blp.response(200, OutcomeSchema)
    @blp.errors(404, 409)
    def patch(self, data, booking_id):
        """Update a booking's outcome

        Changes exactly the fields sent. `next_steps`, when sent, replaces the list: a step with its `id`
        keeps it and changes only the fields sent with it (`done: true` records `done_at`), a step without
        `id` is new (`description` required), and steps left out are removed. 404 until an outcome has
        been recorded (PUT it first); 409 while the booking is not `delivered`.
        """
        session = Session()
        booking = service.booking_in_scope(session, g.principal, str(booking_id))
        outcome = service.outcome_of(session, booking)
        service.require_delivered(booking)
        if outcome is None:
            raise NotFound("No outcome has been recorded for this booking yet; PUT one first.")
        require_if_match(etag_of(outcome, "full"))
        outcome = service.record_outcome(session, g.principal, booking, outcome, data, partial=True)
        return outcome, 200, {"ETag": etag_of(outcome, "full")}


@blp.route("/next-steps")
class NextSteps(MethodView):
    @blp.access(*ALL_ROLES)
    @blp.arguments(NextStepListArgs, location="query", as_kwargs=True)
    @blp.response(200, NextStepSchema(many=True))
    @answers_csv(blp, NextStepSchema(), "next-steps.csv")
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
