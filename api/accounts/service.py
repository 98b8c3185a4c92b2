"""Partners and tokens: creation, revocation, and the CLI bootstrap."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api import audit
from api.accounts.models import ApiToken, Partner
from api.auth import Principal, generate_token, hash_token
from api.db import utcnow
from api.errors import Conflict, NotFound, ValidationFailed
from api.web import apply_sort

PARTNER_SORTS = {"id": Partner.id, "name": Partner.name, "slug": Partner.slug, "created_at": Partner.created_at,
                 "updated_at": Partner.updated_at}
TOKEN_SORTS = {"id": ApiToken.id, "name": ApiToken.name, "created_at": ApiToken.created_at,
               "updated_at": ApiToken.updated_at}


def list_partners(args: dict) -> Select:
    stmt = select(Partner)
    if "updated_since" in args:
        stmt = stmt.where(Partner.updated_at >= args["updated_since"])
    return apply_sort(stmt, args.get("sort"), PARTNER_SORTS, default=[Partner.name])


def get_partner(session: Session, partner_id: str) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("No partner with that id.")
    return partner


def partner_by_slug(session: Session, slug: str) -> Partner | None:
    return session.scalar(select(Partner).where(Partner.slug == slug))


def _ensure_unique_slug(session: Session, slug: str, partner_id: str | None = None) -> None:
    clash = session.scalar(select(Partner.id).where(Partner.slug == slug))
    if clash is not None and clash != partner_id:
        raise Conflict(f"A partner with slug {slug!r} already exists.", existing_id=clash)


def create_partner(session: Session, principal: Principal, data: dict) -> Partner:
    _ensure_unique_slug(session, data["slug"])
    partner = Partner(**data)
    session.add(partner)
    session.flush()
    audit.record(session, principal, "partner", partner.id, "create", {}, audit.snapshot(partner, ("name", "slug")))
    return partner


def update_partner(session: Session, principal: Principal, partner: Partner, data: dict) -> Partner:
    before = audit.snapshot(partner, ("name", "slug"))
    if "slug" in data:
        _ensure_unique_slug(session, data["slug"], partner.id)
    for field, value in data.items():
        setattr(partner, field, value)
    session.flush()
    audit.record(session, principal, "partner", partner.id, "update", before, audit.snapshot(partner, ("name", "slug")))
    return partner


def list_tokens(args: dict) -> Select:
    stmt = select(ApiToken)
    if not args.get("include_revoked"):
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    if "updated_since" in args:
        stmt = stmt.where(ApiToken.updated_at >= args["updated_since"])
    return apply_sort(stmt, args.get("sort"), TOKEN_SORTS, default=[ApiToken.created_at])


def get_token(session: Session, token_id: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("No token with that id.")
    return token


def create_token(session: Session, principal: Principal, *, name: str, role: str,
                 partner_id: str | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored or shown again."""
    if role == "partner" and not partner_id:
        raise ValidationFailed({"partner_id": ["A partner token needs the partner it acts for."]})
    if role != "partner" and partner_id:
        raise ValidationFailed({"partner_id": ["Only partner tokens belong to a partner."]})
    if partner_id and session.get(Partner, partner_id) is None:
        raise ValidationFailed({"partner_id": ["No partner with that id."]})
    secret = generate_token()
    token = ApiToken(name=name, role=role, partner_id=partner_id, token_hash=hash_token(secret), prefix=secret[:8])
    session.add(token)
    session.flush()
    audit.record(session, principal, "token", token.id, "create", {},
                 {"name": name, "role": role, "partner_id": partner_id})
    return token, secret


def revoke_token(session: Session, principal: Principal, token: ApiToken) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    session.flush()
    audit.record(session, principal, "token", token.id, "revoke", {"revoked": False}, {"revoked": True})
