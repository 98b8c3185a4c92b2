"""Trust and contact endpoints."""

from __future__ import annotations

from flask import g, url_for
from flask.views import MethodView

from api.auth import ALL_ROLES, READERS
from api.csv_output import answers_csv, wants_csv
from api.extensions import Session
from api.trusts import ics, service
from api.trusts.schemas import (ContactListArgs, ContactPatchSchema, ContactSchema, IntegratedCareSystemListArgs,
                                IntegratedCareSystemSchema, TrustListArgs, TrustPatchSchema, TrustSchema)
from api.web import (Blueprint, conditional, etag_of, etag_of_data, paginate, readable, require_if_match,
                     with_derived, write_guarded)

blp = Blueprint("trusts", __name__, url_prefix="/api/v1",
                description="NHS trusts (with their ODS codes) and their board contacts.")


@blp.route("/trusts")
class Trusts(MethodView):
    @blp.access(*ALL_ROLES)
    @blp.arguments(TrustListArgs, location="query", as_kwargs=True)
    @blp.response(200, TrustSchema(many=True))
    @answers_csv(blp, TrustSchema(exclude=("engagement",)), "trusts.csv")
    @blp.paginate()
    def get(self, pagination_parameters, **args):
        """List trusts

        Archived trusts are left out unless `include_archived=true` (or `updated_since` is given, so a
        syncing client sees archivals). Partners see every trust but never the internal `notes`.
        """
        trusts = paginate(Session(), service.list_trusts(args), pagination_parameters)
        return [service.present_trust(t, g.principal) for t in trusts]

    @blp.access("coordinator")
    @blp.arguments(TrustSchema, example={"name": "Leeds Teaching Hospitals NHS Trust", "ods_code": "RR8",
                                         "region": "north_east_and_yorkshire", "trust_type": "acute",
                                         "ics_code": "QWO", "website": "https://www.leedsth.nhs.uk"})
    @blp.response(201, TrustSchema, headers={"Location": {"description": "URL of the new trust",
                                                          "schema": {"type": "string"}}})
    @blp.errors(409)
    def post(self, data):
        """Create a trust

        `ods_code` is stored upper case and must be unique (409 names the existing trust).
        """
        session = Session()
        trust, etag = _with_engagement(session, service.create_trust(session, g.principal, data))
        return trust, 201, {"ETag": etag, "Location": url_for("trusts.TrustById", trust_id=trust.id)}


@blp.route("/trusts/<uuid:trust_id>")
class TrustById(MethodView):
    @blp.access(*ALL_ROLES)
    @readable(blp)
    @blp.response(200, TrustSchema)
    @blp.errors(404)
    def get(self, trust_id):
        """Get a trust

        Archived trusts stay readable here. Coordinators and viewers also get `engagement` (sessions delivered and
        upcoming, last interaction, open next steps); its ETag covers that summary too.
        """
        session = Session()
        trust = service.get_trust(session, str(trust_id))
        if g.principal.is_partner:
            return conditional(etag_of(trust, "partner"), service.present_trust(trust, g.principal))
        return conditional(*_with_engagement(session, trust)[::-1])

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.arguments(TrustPatchSchema, example={"ics": "West Yorkshire Health and Care Partnership"})
    @blp.response(200, TrustSchema)
    @blp.errors(404, 409)
    def patch(self, data, trust_id):
        """Update a trust

        Send only the fields to change, with `If-Match` set to the ETag of your last read.
        """
        session = Session()
        trust = service.get_trust(session, str(trust_id))
        _require_trust_match(session, trust)
        trust, etag = _with_engagement(session, service.update_trust(session, g.principal, trust, data))
        return trust, 200, {"ETag": etag}

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.response(204)
    @blp.errors(404)
    def delete(self, trust_id):
        """Archive a trust

        The trust stays readable by id and in lists with `include_archived=true`; its history is kept.
        """
        session = Session()
        trust = service.get_trust(session, str(trust_id))
        _require_trust_match(session, trust)
        service.archive_trust(session, g.principal, trust)


def _with_engagement(session, trust):
    """The trust with its engagement summary, and an ETag covering both."""
    summary = service.ENGAGEMENT.summary(session, trust.id)
    return service.WithEngagement(trust, summary), with_derived(etag_of(trust, "full"), summary)


def _require_trust_match(_session, trust) -> None:
    require_if_match(etag_of(trust, "full"))


@blp.route("/trusts/<uuid:trust_id>/contacts")
class TrustContacts(MethodView):
    @blp.access(*READERS)
    @blp.arguments(ContactListArgs, location="query", as_kwargs=True)
    @blp.response(200, ContactSchema(many=True))
    @answers_csv(blp, ContactSchema(), "contacts.csv")
    @blp.paginate()
    @blp.errors(404)
    def get(self, trust_id, pagination_parameters, **args):
        """List a trust's board contacts"""
        session = Session()
        trust = service.get_trust(session, str(trust_id))
        return paginate(session, service.list_contacts(trust.id, args), pagination_parameters)

    @blp.access("coordinator")
    @blp.arguments(ContactSchema, example={"name": "Dr Siân Williams", "role": "Chief Digital Officer",
                                           "email": "sian.williams@nhs.net"})
    @blp.response(201, ContactSchema)
    @blp.errors(404)
    def post(self, data, trust_id):
        """Add a board contact to a trust"""
        session = Session()
        trust = service.get_trust(session, str(trust_id))
        contact = service.create_contact(session, g.principal, trust, data)
        return contact, 201, {"ETag": etag_of(contact),
                              "Location": url_for("trusts.ContactById", contact_id=contact.id)}


@blp.route("/contacts/<uuid:contact_id>")
class ContactById(MethodView):
    @blp.access(*READERS)
    @readable(blp)
    @blp.response(200, ContactSchema)
    @blp.errors(404)
    def get(self, contact_id):
        """Get a contact"""
        contact = service.get_contact(Session(), str(contact_id))
        return conditional(etag_of(contact), contact)

    @blp.access("coordinator")
    @write_guarded(blp)
    @blp.arguments(ContactPatchSchema, example={"role": "Chair"})
    @blp.response(200, ContactSchema)
    @blp.errors(404, 409)
    def patch(self, data, contact_id):
        """Update a contact"""
        session = Session()
        contact = service.get_contact(session, str(contact_id))
        require_if_match(etag_of(contact))
        contact = service.update_contact(session, g.principal, contact, data)
        return contact, 200, {"ETag": etag_of(contact)}


@blp.route("/integrated-care-systems")
class IntegratedCareSystems(MethodView):
    @blp.access(*ALL_ROLES)
    @blp.alt_response(304, description="Not modified: the `ETag` sent as `If-None-Match` is current.")
    @blp.arguments(IntegratedCareSystemListArgs, location="query", as_kwargs=True)
    @blp.response(200, IntegratedCareSystemSchema(many=True), headers={"ETag": "ETAG"})
    @answers_csv(blp, IntegratedCareSystemSchema(), "integrated-care-systems.csv")
    @blp.paginate()
    def get(self, pagination_parameters, **args):
        """List integrated care systems

        The 42 integrated care systems of England as established on 1 July 2022, shipped with the product:
        `code` (the ODS code of the system's integrated care board, which trusts carry as `ics_code`), `name`
        and `region`. By name unless `sort` says otherwise; filter `region`. The list changes only with a
        release: send its `ETag` back as `If-None-Match` and an unchanged page answers 304.
        """
        systems = ics.systems(args.get("region"), args.get("updated_since"), args.get("sort"))
        pp = pagination_parameters
        pp.item_count = len(systems)
        page = systems[pp.first_item:pp.first_item + pp.page_size]
        # The CSV and the JSON of a page are two representations: two ETags.
        return conditional(etag_of_data([wants_csv(), [[s.code, s.name, s.region] for s in page]]), page)
