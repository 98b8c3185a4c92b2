"""Scheduling endpoints: the slot finder and the dry-run conflict check."""

from __future__ import annotations

from datetime import timedelta

from flask import g
from flask.views import MethodView

from api.auth import READERS
from api.errors import Forbidden
from api.extensions import Session
from api.scheduling import service
from api.scheduling.schemas import CandidateSchema, CheckResultSchema, ProposalSchema, SlotQuery
from api.web import Blueprint

blp = Blueprint("scheduling", __name__, url_prefix="/api/v1/scheduling",
                description="Finding times when speakers and a trust are free, and checking a proposed booking.")

@blp.route("/slots")
class Slots(MethodView):
    @blp.access(*READERS, "partner")
    @blp.arguments(SlotQuery, location="query", as_kwargs=True)
    @blp.response(200, CandidateSchema(many=True))
    def get(self, speaker_ids, trust_id, from_, to, duration, step, working_start, working_end, weekdays, limit,
            topic=None):
        """Find times when speakers and a trust are free

        Candidate starts every `step` minutes from local midnight in the trust's timezone, inside working
        hours there (default 09:00–17:00, Monday to Friday), when every named speaker is available and
        not booked and the trust has no live booking. Earliest first, at most `limit` (max 100); the
        range may span 62 days. `local_times` gives each speaker's local start.

        With `topic` instead of `speaker_ids` the answer lists times when the trust is free and at least one
        active speaker on that topic is available and free; it names no speaker (`local_times` is empty) and
        no booking. That is how a partner asks (naming speakers is 403): by `trust_id` and, optionally,
        `topic` (without it, any active speaker).
        """
        if g.principal.is_partner and speaker_ids:
            raise Forbidden("A partner asks by trust and topic; speaker_ids are for the programme team.",
                            errors={"speaker_ids": ["Partners may not name speakers here."]})
        kwargs = dict(trust_id=trust_id, start=from_, end=to, duration=timedelta(minutes=duration),
                      step=timedelta(minutes=step), working_start=working_start, working_end=working_end,
                      weekdays=weekdays, limit=limit)
        if topic is not None or g.principal.is_partner:
            return service.topic_slots(Session(), topic=topic, **kwargs)
        return service.candidate_slots(Session(), speaker_ids=speaker_ids, **kwargs)


@blp.route("/check")
class Check(MethodView):
    @blp.access(*READERS, "partner")
    @blp.arguments(ProposalSchema, example={
        "trust_id": "5f0c6a43-4a1e-4f7a-9d4a-1c2b3d4e5f60", "starts_at": "2026-03-05T10:00:00Z",
        "speakers": [{"speaker_id": "0b7e5d1c-2f3a-4b5c-8d9e-0f1a2b3c4d5e"}]})
    @blp.response(200, CheckResultSchema)
    def post(self, data):
        """Check a proposed booking for conflicts (dry run)

        The same checks a booking write makes — trust overlap, speaker overlap, speaker availability —
        without writing anything. Give `booking_id` when moving an existing booking.

        Partners may check too (their own `booking_id` only; `override_availability` is 403): a conflict with
        another party's booking shows as `booking_id: null` without times, as in a booking write's 409.
        """
        return service.check_for(Session(), g.principal, data)
