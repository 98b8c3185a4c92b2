"""Registration endpoints: board members' places in masterclasses, and the waiting list."""

from __future__ import annotations

from flask import g, url_for
from flask.views import MethodView

from api.auth import ALL_ROLES
from api.csv_output import documents_csv, dump_csv, wants_csv
from api.extensions import Session
from api.registrations import service
from api.registrations.schemas import (
    RegistrationCreateSchema,
    RegistrationListArgs,
    RegistrationPatchSchema,
    RegistrationSchema,
)
from api.web import (
    IDEMPOTENCY_PARAM,
    Blueprint,
    conditional,
    etag_of,
    paginate,
    readable,
    require_if_match,
    write_guarded,
)

blp = Blueprint("registrations", __name__, url_prefix="/api/v1",
                description="Masterclasses: board members of many trusts register; a full class keeps a waiting list.")


def _respond(registration, status: int = 200, headers: dict | None = None):
    principal = g.principal
    return service.present(registration, principal), status, {
        "ETag": etag_of(registration, service.view(principal)), **(headers or {})}


@blp.route("/bookings/<uuid:booking_id>/registrations")
class BookingRegistrations(MethodView):
    @blp.access(*ALL_ROLES)
    @blp.arguments(RegistrationListArgs, location="query", as_kwargs=True)
    @blp.response(200, RegistrationSchema(many=True))
    @documents_csv(blp)
    @blp.paginate()
    @blp.errors(404)
    def get(self, booking_id, pagination_parameters, **args):
        """List a masterclass's registrations

        Every status (`registered`, `waitlisted`, `cancelled`, `attended`, `no_show`) unless `status` names
        some, in arrival order (`position`) unless `sort` says otherwise (`position`, `status`, `created_at`,
        `updated_at`). Partners see only the registrations they made, with the name and email they gave and
        no `contact_id`. `Accept: text/csv` gives the same page as CSV.
        """
        session = Session()
        booking = service.get_class(session, g.principal, str(booking_id))
        rows = paginate(session, service.list_registrations(g.principal, booking, args), pagination_parameters)
        rows = [service.present(r, g.principal) for r in rows]
        if wants_csv():
            hidden = service.PARTNER_HIDDEN if g.principal.is_partner else ()
            return dump_csv(RegistrationSchema(exclude=hidden), rows, "registrations.csv")
        return rows

    @blp.access("coordinator", "partner")
    @blp.doc(parameters=[IDEMPOTENCY_PARAM])
    @blp.arguments(RegistrationCreateSchema, example={"contact_id": "0b6f1c9e-7d1a-4a53-9d51-2f6f0f4c7a10"})
    @blp.response(201, RegistrationSchema, headers={"Location": {"description": "URL of the new registration",
                                                                 "schema": {"type": "string"}}})
    @blp.errors(404, 409)
    def post(self, data, booking_id):
        """Register a board member for a masterclass

        Coordinators send `{contact_id}`; partners send `{trust_id, name, email, role}`: the trust's contact
        with that email (any case) is registered and left unchanged, or a new contact is added (coordinators
        may register by name the same way). The answer is `registered`, or `waitlisted` when the class is
        full. A person registers once per class (409). A person who would then be in two overlapping live
        events (a board session they attend, another class where they hold a seat) is 409 with `conflicts`
        of kind `attendee_overlap`; joining a waiting list never conflicts. Only a live masterclass takes
        registrations (409); partners register for classes still to come. Changes the class's `ETag`,
        `registered_count`, `waitlisted_count` and `seats_left`, and sends `registration.changed` (not
        `booking.updated`). Send `Idempotency-Key` to retry safely.
        """
        session = Session()
        booking = service.get_class(session, g.principal, str(booking_id))
        registration = service.create_registration(session, g.principal, booking, data)
        return _respond(registration, 201, {
            "Location": url_for("registrations.RegistrationById", registration_id=registration.id)})


@blp.route("/registrations/<uuid:registration_id>")
class RegistrationById(MethodView):
    @blp.access(*ALL_ROLES)
    @readable(blp)
    @blp.response(200, RegistrationSchema)
    @blp.errors(404)
    def get(self, registration_id):
        """Get a registration

        Partners read only the registrations they made (others are 404), without `contact_id`.
        """
        registration = service.get_registration(Session(), g.principal, str(registration_id))
        return conditional(etag_of(registration, service.view(g.principal)),
                           service.present(registration, g.principal))

    @blp.access("coordinator", "partner")
    @write_guarded(blp)
    @blp.arguments(RegistrationPatchSchema, example={"status": "cancelled"})
    @blp.response(200, RegistrationSchema)
    @blp.errors(404, 409)
    def patch(self, data, registration_id):
        """Cancel, restore or record attendance of a registration

        `cancelled` frees the place: the first waitlisted person who is free at that time moves up, in the
        same transaction (each change sends `registration.changed`). A cancelled place comes back with
        `registered`, or `waitlisted` when the class is full (at the end of the queue); a waitlisted person
        becomes `registered` only while a seat is free (409 otherwise). `attended` and `no_show` are
        recorded once the class has ended (409 before). Anything else is 409 listing `allowed`. Partners may
        only cancel the registrations they made (403 otherwise).
        """
        session = Session()
        registration = service.get_registration(session, g.principal, str(registration_id))
        require_if_match(etag_of(registration, service.view(g.principal)))
        return _respond(service.update_registration(session, g.principal, registration, data))
