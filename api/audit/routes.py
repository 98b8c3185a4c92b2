"""The audit trail, read by coordinators."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import or_, select

from api.audit import AuditEvent
from api.audit.schemas import AuditEventSchema, AuditListArgs
from api.csv_output import answers_csv
from api.extensions import Session
from api.web import Blueprint, apply_sort, paginate

audit_blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-events",
                      description="Who changed what and when, with the fields before and after (coordinators only).")

SORTS = {"id": AuditEvent.id, "occurred_at": AuditEvent.occurred_at}


def list_events(args: dict):
    stmt = select(AuditEvent)
    for name in ("entity_type", "entity_id", "action"):
        if args.get(name):
            stmt = stmt.where(getattr(AuditEvent, name) == args[name])
    if args.get("actor"):
        stmt = stmt.where(or_(AuditEvent.actor_token_id == args["actor"], AuditEvent.actor_name == args["actor"]))
    if "occurred_from" in args:
        stmt = stmt.where(AuditEvent.occurred_at >= args["occurred_from"])
    if "occurred_to" in args:
        stmt = stmt.where(AuditEvent.occurred_at < args["occurred_to"])
    if "updated_since" in args:
        stmt = stmt.where(AuditEvent.occurred_at >= args["updated_since"])
    return apply_sort(stmt, args.get("sort"), SORTS, default=[AuditEvent.occurred_at.desc()])


@audit_blp.route("")
class AuditEvents(MethodView):
    @audit_blp.access("coordinator")
    @audit_blp.arguments(AuditListArgs, location="query", as_kwargs=True)
    @audit_blp.response(200, AuditEventSchema(many=True))
    @answers_csv(audit_blp, AuditEventSchema(), "audit-events.csv")
    @audit_blp.paginate()
    def get(self, pagination_parameters, **args):
        """List audit events

        Newest first. `entity_type` is the singular resource name (`trust`, `contact`, `booking`, `outcome`,
        `token`...); `action` is `create`, `update`, `status_change`, `archive`, `erase`...; `actor` is a token id
        or name. Events never change, so `updated_since` filters on `occurred_at`.
        """
        return paginate(Session(), list_events(args), pagination_parameters)
