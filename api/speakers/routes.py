"""Speaker and availability endpoints."""

from __future__ import annotations

from flask import g, request, url_for
from flask.views import MethodView

from api.auth import ALL_ROLES, READERS
from api.csv_output import answers_csv
from api.extensions import Session
from api.speakers import service
from api.speakers.schemas import AvailabilitySchema, SpeakerListArgs, SpeakerPatchSchema, SpeakerSchema
from api.web import (Blueprint, conditional, etag_of, paginate, readable, require_if_match, write_guarded,
                     IF_MATCH_PARAM)

blp = Blueprint("speakers", __name__, url_prefix="/api/v1/speakers",
                description="Speakers from the expert network, their topics, time zones and availability.")

AVAILABILITY_EXAMPLE = {
    "weekly": [{"weekday": 0, "start_time": "09:00", "end_time": "17:30"},
               {"weekday": 2, "start_time": "18:00", "end_time": "24:00"}],
    "exceptions": [{"starts_at": "2026-12-21T00:00:00Z", "ends_at": "2027-01-04T00:00:00Z", "available": False}],
}


@blp.route("")
class Speakers(MethodView):
    @blp.access(*ALL_ROLES)
    @blp.arguments(SpeakerListArgs, location="query", as_kwargs=True)
    @blp.response(200, SpeakerSchema(many=True))
    @answers_csv(blp, SpeakerSchema(), "speakers.csv")
    @blp.paginate()
    def get(self, pagination_parameters, **args):
        """List speakers

        Partners see public profiles only (no email or phone). With `available_from` and `available_to`,
        only speakers whose availability covers the whole range and who are not booked in it; for a
        partner, only its own bookings count as booked (other parties' sessions are never revealed), so
        a speaker listed may still turn out to be taken when the programme team books them.
        """
        session = Session()
        speakers = paginate(session, service.list_speakers(session, g.principal, args), pagination_parameters)
        return [service.present(s, g.principal) for s in speakers]

    @blp.access("coordinator")
    @blp.arguments(SpeakerSchema, example={"name": "Dr Amara Okafor", "email": "amara@example.org",
                                           "organisation": "Sydney Local Health District",
                                           "timezone": "Australia/Sydney", "topics": ["data"]})
    @blp.response(201, SpeakerSchema)
    def post(self, data):
        """Add a speaker

        `timezone` is required: availability and invites are computed in it.
        """
        speaker = service.create_speaker(Session(), g.principal, data)
        return speaker, 201, {"ETag": etag_of(speaker, "full"),
                              "Location": url_for("speakers.SpeakerById", speaker_id=speaker.id)}


@blp.route("/<uuid:speaker_id>")
class SpeakerById(MethodView):
    @blp.access(*ALL_ROLES)
    @readable(blp)
    @blp.response(200, SpeakerSchema)
    @blp.errors(404)
    def get(self, speaker_id):
        """Get a speaker"""
        speaker = service.get_speaker(Session(), str(speaker_id))
        return conditional(etag_of(speaker, service.view(g.principal)), service.present(speaker, g.principal))

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.arguments(SpeakerPatchSchema, example={"bio": "Chief Clinical Information Officer.", "active": True})
    @blp.response(200, SpeakerSchema)
    @blp.errors(404)
    def patch(self, data, speaker_id):
        """Update a speaker"""
        session = Session()
        speaker = service.get_speaker(session, str(speaker_id))
        require_if_match(etag_of(speaker, "full"))
        speaker = service.update_speaker(session, g.principal, speaker, data)
        return speaker, 200, {"ETag": etag_of(speaker, "full")}


@blp.route("/<uuid:speaker_id>/availability")
class SpeakerAvailability(MethodView):
    @blp.access(*READERS)
    @readable(blp)
    @blp.response(200, AvailabilitySchema, example={**AVAILABILITY_EXAMPLE, "timezone": "Europe/London"})
    @blp.errors(404)
    def get(self, speaker_id):
        """Get a speaker's availability

        Weekly windows are wall-clock times in the speaker's `timezone` (weekday 0 is Monday; `end_time`
        may be `24:00`). A speaker with no weekly windows counts as always available.
        """
        speaker = service.get_speaker(Session(), str(speaker_id))
        return conditional(etag_of(speaker, "availability"), service.availability_of(speaker))

    @blp.access("coordinator")
    @blp.doc(parameters=[{**IF_MATCH_PARAM, "required": False,
                          "description": "Required once the speaker has availability (weekly windows or "
                                         "exceptions; 428 without it): the availability ETag you read, or `*`. "
                                         "Not needed for the first PUT. A stale one is 412."}])
    @blp.arguments(AvailabilitySchema, example=AVAILABILITY_EXAMPLE)
    @blp.response(200, AvailabilitySchema)
    @blp.errors(404, 412, 428)
    def put(self, data, speaker_id):
        """Replace a speaker's availability

        Windows do not cross midnight (use two). Overlapping windows on the same weekday are merged.
        Exceptions are absolute times: `available: false` blocks time, `available: true` adds time.
        Replacing availability the speaker already has needs `If-Match` (the ETag of
        `GET /speakers/{id}/availability`), so nobody overwrites windows they have not read.
        """
        session = Session()
        speaker = service.get_speaker(session, str(speaker_id))
        if service.has_availability(speaker) or "If-Match" in request.headers:
            require_if_match(etag_of(speaker, "availability"))
        result = service.set_availability(session, g.principal, speaker, data)
        return result, 200, {"ETag": etag_of(speaker, "availability")}
