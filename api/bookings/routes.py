"""Booking endpoints: sessions with trust boards, their lifecycle and their speakers."""

from __future__ import annotations

from flask import Response, g, request, url_for
from flask.views import MethodView

from api.auth import ALL_ROLES
from api.bookings import service
from api.bookings.schemas import BookingListArgs, BookingPatchSchema, BookingSchema, SpeakerSlotSchema
from api.csv_output import answers_csv
from api.derived import stores_on_read
from api.extensions import Session
from api.web import (IDEMPOTENCY_PARAM, IF_MATCH_PARAM, Blueprint, autocommit_reads, etag_of, not_modified,
                     readable, require_if_match, write_guarded)

blp = Blueprint("bookings", __name__, url_prefix="/api/v1/bookings",
                description="Scheduled sessions with trust boards: lifecycle, speakers and scheduling conflicts.")

CREATE_EXAMPLE = {"trust_id": "5f0c6a43-4a1e-4f7a-9d4a-1c2b3d4e5f60", "kind": "board_development",
                  "format": "virtual", "starts_at": "2026-03-05T10:00:00+00:00",
                  "video_url": "https://teams.microsoft.com/l/meetup-join/abc",
                  "topics": ["what-digital-means", "user-centred-design"], "external_ref": "NHSP-2026-0142",
                  "brief": "New chair; board wants a shared definition of digital."}


def _respond(booking, status: int = 200, headers: dict | None = None):
    principal = g.principal
    return service.present(booking, principal), status, {
        "ETag": etag_of(booking, service.view(principal)), **(headers or {})}


@blp.route("")
class Bookings(MethodView):
    @autocommit_reads
    @stores_on_read
    @blp.access(*ALL_ROLES)
    @blp.arguments(BookingListArgs, location="query", as_kwargs=True)
    @blp.response(200, BookingSchema(many=True))
    @answers_csv(blp, BookingSchema(), "bookings.csv")
    @blp.paginate()
    def get(self, pagination_parameters, **args):
        """List bookings

        Earliest first unless `sort` says otherwise (`starts_at`, `created_at`, `updated_at`, `status`,
        `title`). Cancelled bookings appear when `status` names them or with `updated_since`, so a
        syncing partner sees cancellations. `from`/`to` select bookings overlapping that range.
        Partners see only their own partner's bookings, without `notes` or `attendee_ids`.
        """
        # The stored documents joined (see api.bookings.documents): no ORM objects, no dump.
        # @blp.paginate still adds X-Pagination and Link to the Response (item_count is set).
        body = service.list_page(Session(), g.principal, args, pagination_parameters)
        return Response(body, mimetype="application/json")

    @blp.access("coordinator", "partner")
    @blp.doc(parameters=[IDEMPOTENCY_PARAM])
    @blp.arguments(BookingSchema, example=CREATE_EXAMPLE)
    @blp.response(201, BookingSchema, headers={"Location": {"description": "URL of the new booking",
                                                            "schema": {"type": "string"}}})
    @blp.errors(409)
    def post(self, data):
        """Create a booking

        `ends_at` defaults to `starts_at` + 180 minutes, `timezone` to the trust's, `title` to
        "Board development session: <trust>". `location` is required unless `format` is `virtual`.
        A booking lasts at most 12 hours (422). A coordinator may create a booking in any status
        (`delivered` only once it has ended). A partner's booking is always `requested` (asking for another
        status is 403), starts in the future, and its `external_ref` is unique for that partner (409 on
        reuse). A partner may name only `trust_id`, `kind`, `format`, `status`, `starts_at`, `ends_at`,
        `timezone`, `title`, `location`, `video_url`, `topics`, `brief`, `external_ref` and `capacity`: naming
        any other field, even as `null` or `[]`, is 403. A `masterclass` may leave `trust_id` out (a class for
        board members of many trusts), has a `capacity` (1-500, default 30; other kinds none, 422), takes
        registrations rather than `attendee_ids`, and is not held to the trust overlap rule. An attendee
        already in an overlapping live event is 409 `attendee_overlap`. An overlap with another live booking of the trust is 409
        with `conflicts` (to a partner, another party's booking shows as `booking_id: null` without
        times). Send `Idempotency-Key` to retry safely.
        """
        booking = service.create_booking(Session(), g.principal, data)
        return _respond(booking, 201, {"Location": url_for("bookings.BookingById", booking_id=booking.id)})


@blp.route("/<uuid:booking_id>")
class BookingById(MethodView):
    @autocommit_reads
    @stores_on_read
    @blp.access(*ALL_ROLES)
    @readable(blp)
    @blp.response(200, BookingSchema)
    @blp.errors(404)
    def get(self, booking_id):
        """Get a booking

        Another partner's booking is 404; partners also read every masterclass the programme team runs.
        A masterclass shows `capacity`, `registered_count`, `waitlisted_count` and `seats_left`.
        """
        # The stored document, as the list (see api.bookings.documents): one primary-key read.
        text, etag = service.get_booking_doc(Session(), g.principal, str(booking_id),
                                                     lambda current: not_modified(current) is not None)
        if text is None:
            return not_modified(etag)
        return Response(text, mimetype="application/json", headers={"ETag": etag})

    @blp.access("coordinator", "partner")
    @write_guarded(blp)
    @blp.arguments(BookingPatchSchema, example={"status": "cancelled", "cancel_reason": "Board meeting moved."})
    @blp.response(200, BookingSchema)
    @blp.errors(404, 409)
    def patch(self, data, booking_id):
        """Update, reschedule or change the status of a booking

        Status moves `requested → provisional | confirmed | cancelled`, `provisional → confirmed |
        cancelled`, `confirmed → delivered | cancelled` (anything else is 409 listing `allowed`);
        `delivered` only once the session has ended. Changes exactly the fields it names.
        Partners may PATCH their own `requested` bookings (`format`, `starts_at`, `ends_at`, `timezone`,
        `title`, `location`, `video_url`, `topics`, `brief`, `external_ref`, and `status: "cancelled"` with
        `cancel_reason`); once a booking is no longer `requested` a partner may only cancel it. Naming any
        other field, even as `null` or `[]`, is 403 and changes nothing; confirming or delivering is for
        coordinators (403). A new `starts_at`/`ends_at` moves the speakers' slots with it and re-checks the
        trust and every speaker (409 with `conflicts`); `override_availability: true` (coordinators) skips
        the availability check. A booking lasts at most 12 hours (422). `sequence` grows when the time,
        format, location or video link changes, and on cancellation. A class's `capacity` cannot go below its
        places taken (409); more seats move its waiting list up.
        """
        session = Session()
        booking = service.get_booking(session, g.principal, str(booking_id))
        require_if_match(etag_of(booking, service.view(g.principal)))
        return _respond(service.update_booking(session, g.principal, booking, data))


@blp.route("/<uuid:booking_id>/speakers/<uuid:speaker_id>")
class BookingSpeakerSlot(MethodView):
    @blp.access("coordinator")
    @blp.doc(parameters=[{**IF_MATCH_PARAM, "required": False,
                          "description": "The booking's ETag you read (or `*`): required when the speaker is "
                                         "already on the booking (428 without it), optional when adding them. "
                                         "A stale one is 412."}])
    @blp.arguments(SpeakerSlotSchema, example={"role": "guest", "starts_at": "2026-03-05T11:00:00Z",
                                               "ends_at": "2026-03-05T12:00:00Z"})
    @blp.response(200, BookingSchema)
    @blp.errors(404, 409, 412, 428)
    def put(self, data, booking_id, speaker_id):
        """Put a speaker on a booking

        Without `starts_at`/`ends_at` the speaker joins for the whole booking; a slot must lie inside it.
        Changing the role or slot of a speaker already on the booking needs `If-Match` with the booking's
        ETag; adding a speaker does not. A speaker already booked at an overlapping time, or outside their
        availability (unless `override_availability: true`), is 409 with `conflicts`. Answers the whole
        booking and its new ETag.
        """
        session = Session()
        booking = service.get_booking(session, g.principal, str(booking_id))
        if service.has_speaker(booking, str(speaker_id)) or "If-Match" in request.headers:
            require_if_match(etag_of(booking, "full"))
        return _respond(service.put_speaker(session, g.principal, booking, str(speaker_id), data))

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.response(204)
    @blp.errors(404)
    def delete(self, booking_id, speaker_id):
        """Take a speaker off a booking

        `If-Match` is the booking's ETag. The booking's ETag and `updated_at` change.
        """
        session = Session()
        booking = service.get_booking(session, g.principal, str(booking_id))
        require_if_match(etag_of(booking, "full"))
        service.remove_speaker(session, g.principal, booking, str(speaker_id))
