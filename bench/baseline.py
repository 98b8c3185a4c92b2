"""Textbook baselines served beside Boardroom in the same benchmark run.

``textbook``: a minimal flask-smorest + marshmallow app listing 50 flat rows from the same database.
``bare``: a bare Flask JSON endpoint. Every Boardroom figure is reported as a ratio to these.
"""

from __future__ import annotations

import os

import marshmallow as ma
from flask import Flask, jsonify
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from sqlalchemy import create_engine, text

DATABASE_URL = os.environ["DATABASE_URL"]


class RowSchema(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.String()
    kind = ma.fields.String()
    format = ma.fields.String()
    starts_at = ma.fields.String()
    ends_at = ma.fields.String()


def _textbook() -> Flask:
    app = Flask("textbook")
    app.config.update(API_TITLE="textbook", API_VERSION="1", OPENAPI_VERSION="3.1.0")
    api = Api(app)
    blp = Blueprint("rows", __name__)
    engine = create_engine(DATABASE_URL)

    @blp.route("/rows")
    class Rows(MethodView):
        @blp.response(200, RowSchema(many=True))
        def get(self):
            with engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(text(
                    "SELECT id, title, status, kind, format, starts_at, ends_at FROM bookings "
                    "ORDER BY starts_at, id LIMIT 50"))]

    api.register_blueprint(blp)
    return app


def _bare() -> Flask:
    app = Flask("bare")

    @app.get("/json")
    def bare_json():
        return jsonify({"status": "ok"})

    return app


textbook = _textbook()
bare = _bare()
