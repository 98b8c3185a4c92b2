"""Calendar endpoints: booking invites (.ics), feed subscriptions, and the public feed files."""

from __future__ import annotations

from flask import Response, current_app, g, request, url_for
from flask.views import MethodView
from werkzeug.http import http_date, parse_date

from api.auth import ALL_ROLES
from api.calendar import service
from api.calendar.schemas import FeedListArgs, FeedSchema, InviteArgs, NewFeedSchema
from api.db import utcnow
from api.derived import stores_on_read
from api.extensions import Session
from api.web import (
    IF_NONE_MATCH_PARAM,
    PUBLIC,
    Blueprint,
    autocommit_reads,
    base_url,
    conditional,
    etag_of,
    no_store,
    not_modified,
    paginate,
    readable,
    require_if_match,
    write_guarded,
)

ICS_TYPE = "text/calendar; charset=utf-8"
FEED_CACHE_CONTROL = "private, max-age=300"

invites_blp = Blueprint("invites", __name__, url_prefix="/api/v1/bookings",
                        description="Calendar invites (iCalendar, RFC 5545/5546) for bookings.")
feeds_blp = Blueprint("feeds", __name__, url_prefix="/api/v1/feeds",
                      description="Calendar feed subscriptions: secret URLs that Outlook, Google and Apple "
                                  "Calendar poll.")
feed_files_blp = Blueprint("feed_files", __name__, url_prefix="/feeds",
                           description="The feeds themselves: public iCalendar files at secret URLs.")

INVITE_EXAMPLE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Boardroom//Boardroom API//EN\r\nCALSCALE:GREGORIAN\r\n"
    "METHOD:REQUEST\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n...\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\n"
    "UID:6f1c1d2e-6a9b-4b7e-9f3a-2d7c1e0b5a11@boardroom\r\nSEQUENCE:2\r\nDTSTAMP:20260305T101500Z\r\n"
    "DTSTART;TZID=Europe/London:20260312T090000\r\nDTEND;TZID=Europe/London:20260312T120000\r\n"
    "STATUS:CONFIRMED\r\nSUMMARY:Board development: what digital means\r\n...\r\n"
    "ORGANIZER;CN=Board Development Programme:mailto:programme@boardroom.example\r\n"
    "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=CHAIR;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Dr Amara Okafor:"
    "mailto:amara@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
FEED_EXAMPLE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Boardroom//Boardroom API//EN\r\nCALSCALE:GREGORIAN\r\n"
    "METHOD:PUBLISH\r\nX-WR-CALNAME:Boardroom – Dr Amara Okafor\r\nX-WR-TIMEZONE:Australia/Sydney\r\n"
    "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\nX-PUBLISHED-TTL:PT1H\r\nBEGIN:VTIMEZONE\r\n...\r\n"
    "END:VTIMEZONE\r\nBEGIN:VEVENT\r\n...\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
ICS_SCHEMA = {"type": "string", "description": "An iCalendar (RFC 5545) object."}
IF_MODIFIED_SINCE_PARAM = {
    "in": "header", "name": "If-Modified-Since", "required": False, "schema": {"type": "string"},
    "description": "An HTTP date; 304 when the feed has not changed since (ignored when If-None-Match is sent).",
}
FEED_EXAMPLE_BODY = {"scope": "speaker", "speaker_id": "0b6f7c1e-3d2a-4c1b-9e8f-7a6b5c4d3e2f"}


# --- invites ----------------------------------------------------------------------------------

# If-None-Match is declared on the route: @readable's doc() would replace the query parameters.
@invites_blp.route("/<uuid:booking_id>/invite.ics", parameters=[IF_NONE_MATCH_PARAM])
class BookingInvite(MethodView):
    @invites_blp.access(*ALL_ROLES)
    @invites_blp.arguments(InviteArgs, location="query", as_kwargs=True)
    @invites_blp.alt_response(304, description="Not modified: your ETag is current.")
    @invites_blp.response(200, ICS_SCHEMA, content_type="text/calendar", example=INVITE_EXAMPLE,
                          description="The invite: `METHOD:REQUEST`, or `METHOD:CANCEL` with `STATUS:CANCELLED` "
                                      "once the booking is cancelled.",
                          headers={"ETag": {"description": "A strong ETag of this invite.",
                                            "schema": {"type": "string"}}})
    @invites_blp.errors(404, 409, 422)
    def get(self, booking_id, attendee=None):
        """Download a booking's calendar invite

        One VEVENT whose `UID` stays the same for the booking's life and whose `SEQUENCE` is the
        booking's `sequence`, so importing a newer invite updates (or cancels) the same calendar entry.
        `DTSTART`/`DTEND` carry the booking's `TZID` with a matching VTIMEZONE. `ORGANIZER` is the
        programme's address; there is an `ATTENDEE` per speaker (`ROLE=CHAIR` for facilitators) and per
        attendee contact. Fetched with a partner token (only for the partner's own bookings), attendees
        are named without their email addresses or ids. A request without a time has no invite yet (409).
        With `attendee=<speaker or contact id>` the invite names only that person (with a partner token,
        speakers only). For someone who was on the booking and has been taken off it, it is their
        `METHOD:CANCEL` (`STATUS:CANCELLED`), so the entry leaves their calendar; anyone else is 422.
        """
        body = service.invite(Session(), g.principal, str(booking_id), current_app.config, attendee)
        etag = service.strong_etag(body)
        cached = not_modified(etag)
        if cached is not None:
            return cached
        method = "CANCEL" if b"\r\nMETHOD:CANCEL\r\n" in body else "REQUEST"
        return Response(body, content_type=f"text/calendar; method={method}; charset=utf-8", headers={
            "ETag": etag, "Content-Disposition": f'attachment; filename="booking-{booking_id}.ics"'})


# --- feed subscriptions -----------------------------------------------------------------------

def _with_secret(feed, token: str):
    g.response_holds_secret = feed.id  # an idempotent replay answers 409 naming the feed, not the token
    feed.url, feed.webcal_url = service.feed_urls(base_url(), token)
    feed.token = token
    return feed


@feeds_blp.route("")
class Feeds(MethodView):
    @feeds_blp.access(*ALL_ROLES)
    @feeds_blp.arguments(FeedListArgs, location="query", as_kwargs=True)
    @feeds_blp.response(200, FeedSchema(many=True))
    @feeds_blp.paginate()
    def get(self, pagination_parameters, **args):
        """List calendar feeds (never their tokens)

        Coordinators and viewers see every live feed; a partner its partner's feeds.
        A feed's URL cannot be shown again: rotate the feed for a new one.
        """
        return paginate(Session(), service.list_feeds(g.principal, args), pagination_parameters)

    @no_store
    @feeds_blp.access("coordinator", "partner")
    @feeds_blp.arguments(FeedSchema, example=FEED_EXAMPLE_BODY)
    @feeds_blp.response(201, NewFeedSchema)
    @feeds_blp.errors(403, 422)
    def post(self, data):
        """Create a calendar feed

        Returns the feed's secret `url` (and `webcal_url`) once; it is stored hashed. Scopes: `speaker`
        (that speaker's sessions), `trust` (that trust's bookings), `programme` (every booking) or `contact`
        (a board member's own feed: the sessions they attend, without the `brief`; coordinators only, 403
        for a partner). A partner's feed of any scope holds only the partner's own bookings. A replay of the same
        `Idempotency-Key` answers 409 naming the created id rather than the secret.
        """
        feed, token = service.create_feed(Session(), g.principal, data)
        return _with_secret(feed, token), 201, {"ETag": etag_of(feed),
                                                "Location": url_for("feeds.FeedById", feed_id=feed.id)}


@feeds_blp.route("/<uuid:feed_id>")
class FeedById(MethodView):
    @feeds_blp.access(*ALL_ROLES)
    @readable(feeds_blp)
    @feeds_blp.response(200, FeedSchema)
    @feeds_blp.errors(404)
    def get(self, feed_id):
        """Get a calendar feed's details (not its token)"""
        feed = service.get_feed(Session(), g.principal, str(feed_id))
        return conditional(etag_of(feed), feed)

    @feeds_blp.access("coordinator", "partner")
    @write_guarded(feeds_blp)
    @feeds_blp.response(204)
    @feeds_blp.errors(404)
    def delete(self, feed_id):
        """Revoke a calendar feed

        Its URL answers 404 from now on; calendars subscribed to it stop updating.
        """
        session = Session()
        feed = service.get_feed(session, g.principal, str(feed_id))
        require_if_match(etag_of(feed))
        service.revoke_feed(session, g.principal, feed)


@feeds_blp.route("/<uuid:feed_id>/rotate")
class FeedRotation(MethodView):
    @no_store
    @feeds_blp.access("coordinator", "partner")
    @feeds_blp.response(200, NewFeedSchema)
    @feeds_blp.errors(404)
    def post(self, feed_id):
        """Give a calendar feed a new secret URL

        The old URL answers 404 from now on; the new `url`, `webcal_url` and `token` are in this response
        only. A replay of the same `Idempotency-Key` answers 409 naming the feed.
        """
        session = Session()
        feed = service.get_feed(session, g.principal, str(feed_id))
        token = service.rotate_feed(session, g.principal, feed)
        return _with_secret(feed, token), 200, {"ETag": etag_of(feed)}


# --- the feeds themselves ---------------------------------------------------------------------

@feed_files_blp.route("/<string:token>.ics")
class FeedFile(MethodView):
    @autocommit_reads
    @stores_on_read  # VEVENTs rendered for bookings without stored text are kept
    @feed_files_blp.access(PUBLIC)
    @feed_files_blp.doc(parameters=[IF_NONE_MATCH_PARAM, IF_MODIFIED_SINCE_PARAM])
    @feed_files_blp.response(
        200, ICS_SCHEMA, content_type="text/calendar", example=FEED_EXAMPLE,
        description="The feed: `METHOD:PUBLISH`, one VEVENT per booking in scope.",
        headers={name: {"schema": {"type": "string"}, "description": text} for name, text in (
            ("ETag", "Changes whenever anything the feed shows changes, and at midnight UTC."),
            ("Last-Modified", "When the feed last changed (an HTTP date)."),
            ("Cache-Control", "`private, max-age=300`."))})
    @feed_files_blp.alt_response(304, description="Not modified: your ETag (or date) is current.")
    @feed_files_blp.errors(404)
    def get(self, token):
        """Read a calendar feed

        Needs no other authentication: the token in the URL is the secret. Subscribe to it from a calendar
        app. Holds every booking in scope that ended within the history window (a year by default) or
        is still to come, and cancelled ones (`STATUS:CANCELLED`) for 30 days after their cancellation.
        Carries no email addresses, phone numbers or internal notes. Answers 304 to a current
        `If-None-Match` (or, without it, `If-Modified-Since`); an unknown, revoked or rotated token is 404.
        """
        session = Session()
        now = utcnow()
        view = service.feed_by_token(session, token)
        validators = service.feed_validators(view, now, current_app.config)
        headers = {"ETag": validators.etag, "Last-Modified": http_date(validators.last_modified),
                   "Cache-Control": FEED_CACHE_CONTROL}
        cached = _not_modified(validators)
        if cached is not None:
            cached.headers.update(headers)
            return cached
        body = service.feed_body(session, view, validators, now, current_app.config,
                                 current_app.extensions.get("feed_bodies"))
        return Response(body, content_type=ICS_TYPE, headers=headers)


def _not_modified(validators: service.Validators) -> Response | None:
    """RFC 9110 13.2.2: If-None-Match decides when present; otherwise If-Modified-Since."""
    if request.headers.get("If-None-Match") is not None:
        return not_modified(validators.etag)
    since = parse_date(request.headers.get("If-Modified-Since"))
    if since is not None and validators.last_modified.replace(microsecond=0) <= since:
        return Response(status=304)
    return None
