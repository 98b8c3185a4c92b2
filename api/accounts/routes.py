"""Partner organisations and API token management (coordinators only)."""

from __future__ import annotations

from flask import g, url_for
from flask.views import MethodView

from api.accounts import service
from api.accounts.schemas import NewTokenSchema, PartnerPatchSchema, PartnerSchema, TokenListArgs, TokenSchema
from api.extensions import Session
from api.web import (Blueprint, ListArgs, conditional, etag_of, no_store, paginate, readable,
                     require_if_match, write_guarded)

partners_blp = Blueprint("partners", __name__, url_prefix="/api/v1/partners",
                         description="Partner organisations (NHS Providers first) whose systems book sessions.")
tokens_blp = Blueprint("tokens", __name__, url_prefix="/api/v1/tokens",
                       description="API tokens: random, shown once, stored hashed, revocable.")


@partners_blp.route("")
class Partners(MethodView):
    @partners_blp.access("coordinator", "viewer")
    @partners_blp.arguments(ListArgs, location="query", as_kwargs=True)
    @partners_blp.response(200, PartnerSchema(many=True))
    @partners_blp.paginate()
    def get(self, pagination_parameters, **args):
        """List partner organisations"""
        return paginate(Session(), service.list_partners(args), pagination_parameters)

    @partners_blp.access("coordinator")
    @partners_blp.arguments(PartnerSchema, example={"name": "NHS Providers", "slug": "nhs-providers"})
    @partners_blp.response(201, PartnerSchema)
    @partners_blp.errors(409)
    def post(self, data):
        """Create a partner organisation

        `slug` is unique; use it with `flask --app wsgi tokens create NAME --role partner --partner SLUG`.
        """
        partner = service.create_partner(Session(), g.principal, data)
        return partner, 201, {"ETag": etag_of(partner),
                              "Location": url_for("partners.PartnerById", partner_id=partner.id)}


@partners_blp.route("/<uuid:partner_id>")
class PartnerById(MethodView):
    @partners_blp.access("coordinator", "viewer")
    @readable(partners_blp)
    @partners_blp.response(200, PartnerSchema)
    @partners_blp.errors(404)
    def get(self, partner_id):
        """Get a partner organisation"""
        partner = service.get_partner(Session(), str(partner_id))
        return conditional(etag_of(partner), partner)

    @partners_blp.access("coordinator")
    @write_guarded(partners_blp)
    @partners_blp.arguments(PartnerPatchSchema, example={"name": "NHS Providers (membership)"})
    @partners_blp.response(200, PartnerSchema)
    @partners_blp.errors(404, 409)
    def patch(self, data, partner_id):
        """Update a partner organisation"""
        session = Session()
        partner = service.get_partner(session, str(partner_id))
        require_if_match(etag_of(partner))
        partner = service.update_partner(session, g.principal, partner, data)
        return partner, 200, {"ETag": etag_of(partner)}


@tokens_blp.route("")
class Tokens(MethodView):
    @tokens_blp.access("coordinator")
    @tokens_blp.arguments(TokenListArgs, location="query", as_kwargs=True)
    @tokens_blp.response(200, TokenSchema(many=True))
    @tokens_blp.paginate()
    def get(self, pagination_parameters, **args):
        """List API tokens (never their secrets)"""
        return paginate(Session(), service.list_tokens(args), pagination_parameters)

    @no_store
    @tokens_blp.access("coordinator")
    @tokens_blp.arguments(TokenSchema, example={"name": "NHS Providers booking system", "role": "partner",
                                                "partner_id": "6f1c1d2e-6a9b-4b7e-9f3a-2d7c1e0b5a11"})
    @tokens_blp.response(201, NewTokenSchema)
    def post(self, data):
        """Create an API token

        The `token` is in this response only. A replay of the same `Idempotency-Key` answers 409 naming
        the created id rather than the secret.
        """
        token, secret = service.create_token(Session(), g.principal, **data)
        g.response_holds_secret = token.id
        token.token = secret
        return token, 201, {"ETag": etag_of(token), "Location": url_for("tokens.TokenById", token_id=token.id)}


@tokens_blp.route("/<uuid:token_id>")
class TokenById(MethodView):
    @tokens_blp.access("coordinator")
    @readable(tokens_blp)
    @tokens_blp.response(200, TokenSchema)
    @tokens_blp.errors(404)
    def get(self, token_id):
        """Get an API token's details"""
        token = service.get_token(Session(), str(token_id))
        return conditional(etag_of(token), token)

    @tokens_blp.access("coordinator")
    @write_guarded(tokens_blp)
    @tokens_blp.response(204)
    @tokens_blp.errors(404)
    def delete(self, token_id):
        """Revoke an API token

        It stops working at once. The record stays, with `revoked_at` set.
        """
        session = Session()
        token = service.get_token(session, str(token_id))
        require_if_match(etag_of(token))
        service.revoke_token(session, g.principal, token)
