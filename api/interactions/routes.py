"""Interaction endpoints (coordinators write; coordinators and viewers read; never partners)."""

from __future__ import annotations

from flask import g, url_for
from flask.views import MethodView

from api.auth import READERS
from api.csv_output import answers_csv
from api.extensions import Session
from api.interactions import service
from api.interactions.schemas import InteractionListArgs, InteractionPatchSchema, InteractionSchema
from api.trusts.service import get_trust
from api.web import Blueprint, conditional, etag_of, paginate, readable, require_if_match, write_guarded

blp = Blueprint("interactions", __name__, url_prefix="/api/v1",
                description="The CRM log of interviews, calls, emails, meetings and notes with each trust.")

EXAMPLE = {"kind": "interview", "occurred_at": "2026-02-10T14:00:00Z",
           "summary": "Pre-session interview with the chair: wants to focus on prioritisation.",
           "contact_ids": [], "booking_id": None}


@blp.route("/trusts/<uuid:trust_id>/interactions")
class TrustInteractions(MethodView):
    @blp.access(*READERS)
    @blp.arguments(InteractionListArgs, location="query", as_kwargs=True)
    @blp.response(200, InteractionSchema(many=True))
    @answers_csv(blp, InteractionSchema(), "interactions.csv")
    @blp.paginate()
    @blp.errors(404)
    def get(self, trust_id, pagination_parameters, **args):
        """List a trust's interactions

        Newest first by default. Filters: `kind`, `contact_id`, `booking_id`, `from`/`to` (on `occurred_at`).
        """
        session = Session()
        trust = get_trust(session, str(trust_id))
        return paginate(session, service.list_interactions(trust.id, args), pagination_parameters)

    @blp.access("coordinator")
    @blp.arguments(InteractionSchema, example=EXAMPLE)
    @blp.response(201, InteractionSchema)
    @blp.errors(404)
    def post(self, data, trust_id):
        """Log an interaction with a trust

        `contact_ids` must be contacts of this trust and `booking_id` a booking of this trust (else 422).
        """
        session = Session()
        trust = get_trust(session, str(trust_id))
        interaction = service.create_interaction(session, g.principal, trust, data)
        return interaction, 201, {"ETag": etag_of(interaction),
                                  "Location": url_for("interactions.InteractionById", interaction_id=interaction.id)}


@blp.route("/interactions/<uuid:interaction_id>")
class InteractionById(MethodView):
    @blp.access(*READERS)
    @readable(blp)
    @blp.response(200, InteractionSchema)
    @blp.errors(404)
    def get(self, interaction_id):
        """Get an interaction"""
        interaction = service.get_interaction(Session(), str(interaction_id))
        return conditional(etag_of(interaction), interaction)

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.arguments(InteractionPatchSchema, example={"summary": "Chair confirmed the focus on prioritisation."})
    @blp.response(200, InteractionSchema)
    @blp.errors(404)
    def patch(self, data, interaction_id):
        """Update an interaction"""
        session = Session()
        interaction = service.get_interaction(session, str(interaction_id))
        require_if_match(etag_of(interaction))
        interaction = service.update_interaction(session, g.principal, interaction, data)
        return interaction, 200, {"ETag": etag_of(interaction)}

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.response(204)
    @blp.errors(404)
    def delete(self, interaction_id):
        """Delete an interaction

        Removed from the log; the audit trail keeps the record of it.
        """
        session = Session()
        interaction = service.get_interaction(session, str(interaction_id))
        require_if_match(etag_of(interaction))
        service.delete_interaction(session, g.principal, interaction)
