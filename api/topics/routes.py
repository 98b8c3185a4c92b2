"""Topic catalogue endpoints."""

from __future__ import annotations

from flask import g, url_for
from flask.views import MethodView

from api.auth import ALL_ROLES
from api.extensions import Session
from api.topics import service
from api.topics.schemas import TopicPatchSchema, TopicSchema
from api.web import Blueprint, ListArgs, conditional, etag_of, paginate, readable, require_if_match, write_guarded

blp = Blueprint("topics", __name__, url_prefix="/api/v1/topics",
                description="The catalogue of programme topics; bookings, speakers and outcomes refer to them by slug.")


@blp.route("")
class Topics(MethodView):
    @blp.access(*ALL_ROLES)
    @blp.arguments(ListArgs, location="query", as_kwargs=True)
    @blp.response(200, TopicSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters, **args):
        """List topics"""
        return paginate(Session(), service.list_topics(args), pagination_parameters)

    @blp.access("coordinator")
    @blp.arguments(TopicSchema, example={"slug": "digital-inclusion", "name": "Digital inclusion"})
    @blp.response(201, TopicSchema)
    @blp.errors(409)
    def post(self, data):
        """Add a topic to the catalogue"""
        topic = service.create_topic(Session(), g.principal, data)
        return topic, 201, {"ETag": etag_of(topic), "Location": url_for("topics.TopicById", topic_id=topic.id)}


@blp.route("/<uuid:topic_id>")
class TopicById(MethodView):
    @blp.access(*ALL_ROLES)
    @readable(blp)
    @blp.response(200, TopicSchema)
    @blp.errors(404)
    def get(self, topic_id):
        """Get a topic"""
        topic = service.get_topic(Session(), str(topic_id))
        return conditional(etag_of(topic), topic)

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.arguments(TopicPatchSchema, example={"name": "Data and insight"})
    @blp.response(200, TopicSchema)
    @blp.errors(404, 409)
    def patch(self, data, topic_id):
        """Update a topic"""
        session = Session()
        topic = service.get_topic(session, str(topic_id))
        require_if_match(etag_of(topic))
        topic = service.update_topic(session, g.principal, topic, data)
        return topic, 200, {"ETag": etag_of(topic)}
