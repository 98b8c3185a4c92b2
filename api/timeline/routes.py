"""The trust timeline endpoint (coordinators and viewers)."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import READERS
from api.csv_output import answers_csv
from api.extensions import Session
from api.timeline import service
from api.timeline.schemas import TimelineArgs, TimelineEntrySchema
from api.trusts.service import get_trust
from api.web import Blueprint, autocommit_reads, split_csv

blp = Blueprint("timeline", __name__, url_prefix="/api/v1",
                description="A trust's story in one list: interactions, bookings, outcomes and next steps.")


@blp.route("/trusts/<uuid:trust_id>/timeline")
class TrustTimeline(MethodView):
    @autocommit_reads
    @blp.access(*READERS)
    @blp.arguments(TimelineArgs, location="query", as_kwargs=True)
    @blp.response(200, TimelineEntrySchema(many=True))
    @answers_csv(blp, TimelineEntrySchema(), "timeline.csv")
    @blp.paginate()
    @blp.errors(404)
    def get(self, trust_id, pagination_parameters, **args):
        """Get a trust's timeline

        Everything that happened with one trust, newest first, as one list of `{kind, at, id, booking_id,
        summary}`: interactions, bookings (any status: the summary names it), outcomes and next steps. `kind`
        filters (comma-separated); `updated_since` keeps entries changed since then; `sort=at` reads it oldest
        first. The same few queries answer any page of any trust. Archived trusts keep their timeline.
        Partners are refused (403): the timeline holds the CRM log.
        """
        session = Session()
        trust = get_trust(session, str(trust_id))
        return service.timeline(session, trust.id, split_csv(args.get("kind")) or None, args.get("updated_since"),
                                args.get("sort") == "at", pagination_parameters)
