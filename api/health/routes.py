"""`/healthz` (the process runs) and `/readyz` (the database answers at the newest migration)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from sqlalchemy import text

import marshmallow as ma

from api.extensions import Session
from api.fields import Schema
from api.migrations_state import head_revision
from api.web import PUBLIC, Blueprint
from api.errors import problem_response

blp = Blueprint("health", __name__, description="Probes for load balancers and orchestrators.")


class HealthSchema(Schema):
    status = ma.fields.String(metadata={"example": "ok"})


class ReadySchema(Schema):
    status = ma.fields.String(metadata={"example": "ready"})
    revision = ma.fields.String(metadata={"description": "The database's Alembic revision."})


@blp.route("/healthz")
class Health(MethodView):
    @blp.access(PUBLIC)
    @blp.response(200, HealthSchema)
    def get(self):
        """Liveness: 200 while the process runs; touches nothing else"""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.access(PUBLIC)
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, response="Problem503")
    def get(self):
        """Readiness: 200 only when the database answers and is at the newest migration"""
        try:
            current = Session().execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # noqa: BLE001 - any database failure means not ready
            Session.rollback()
            return problem_response(503, detail="The database does not answer or has no schema.",
                                    slug="not-ready", headers={"Retry-After": "5"})
        head = head_revision()
        if current != head:
            return problem_response(503, detail=f"The database schema is at {current}, not {head}; run "
                                    "`flask --app wsgi db upgrade`.", slug="not-ready", headers={"Retry-After": "5"})
        return {"status": "ready", "revision": current}
