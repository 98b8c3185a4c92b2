"""Rules for trusts and contacts: uniqueness of ODS codes, archiving, partner redaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import audit
from api.auth import Principal
from api.db import utcnow
from api.errors import Conflict, NotFound, ValidationFailed
from api.trusts import ics
from api.trusts.models import Contact, Trust
from api.web import Redacted, apply_sort, split_csv

TRUST_FIELDS = ("name", "ods_code", "region", "trust_type", "ics", "ics_code", "website", "timezone", "notes",
                "archived_at")
CONTACT_FIELDS = ("name", "role", "email", "phone", "notes", "email_opt_out")
PARTNER_HIDDEN_TRUST = frozenset({"notes", "engagement"})

TRUST_SORTS = {"id": Trust.id, "name": Trust.name, "ods_code": Trust.ods_code, "region": Trust.region,
               "ics_code": Trust.ics_code, "created_at": Trust.created_at, "updated_at": Trust.updated_at}
CONTACT_SORTS = {"id": Contact.id, "name": Contact.name, "created_at": Contact.created_at,
                 "updated_at": Contact.updated_at}


def present_trust(trust: Trust, principal: Principal) -> Any:
    return Redacted(trust, PARTNER_HIDDEN_TRUST) if principal.is_partner else trust


class WithEngagement:
    """A trust as one coordinator or viewer reads it: with its engagement summary."""

    __slots__ = ("_trust", "engagement")

    def __init__(self, trust: Trust, engagement: dict):
        self._trust = trust
        self.engagement = engagement

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trust, name)


@dataclass
class Engagement:
    """What a trust shows about its bookings, computed by packages above this one and registered by
    ``create_app``: its engagement summary (``api.reports.service.engagement``) and the condition "has a
    delivered booking" for the ``engaged`` filter (``api.bookings.service.delivered_booking_exists``)."""

    summary: Callable[[Session, str], dict] | None = None
    delivered: Callable[[], Any] | None = None


ENGAGEMENT = Engagement()


def register_engagement(summary: Callable[[Session, str], dict], delivered: Callable[[], Any]) -> None:
    ENGAGEMENT.summary, ENGAGEMENT.delivered = summary, delivered


def list_trusts(args: dict) -> Select:
    stmt = select(Trust)
    if not args.get("include_archived") and "updated_since" not in args:
        stmt = stmt.where(Trust.archived_at.is_(None))
    if "updated_since" in args:
        stmt = stmt.where(Trust.updated_at >= args["updated_since"])
    if "region" in args:
        stmt = stmt.where(Trust.region == args["region"])
    if "trust_type" in args:
        stmt = stmt.where(Trust.trust_type == args["trust_type"])
    if "ics_code" in args:
        stmt = stmt.where(Trust.ics_code.in_(split_csv(args["ics_code"])))
    if args.get("q"):
        q = args["q"].strip()
        stmt = stmt.where(or_(func.lower(Trust.name).contains(q.lower(), autoescape=True),
                              Trust.ods_code == q.upper()))
    if "engaged" in args:
        engaged = ENGAGEMENT.delivered()
        stmt = stmt.where(engaged if args["engaged"] else ~engaged)
    return apply_sort(stmt, args.get("sort"), TRUST_SORTS, default=[Trust.name])


def get_trust(session: Session, trust_id: str) -> Trust:
    trust = session.get(Trust, trust_id)
    if trust is None:
        raise NotFound("No trust with that id.")
    return trust


def _ensure_unique_ods(session: Session, ods_code: str, trust_id: str | None = None) -> None:
    clash = session.scalar(select(Trust.id).where(Trust.ods_code == ods_code))
    if clash is not None and clash != trust_id:
        raise Conflict(f"A trust with ODS code {ods_code} already exists.", existing_id=clash)


def _flush_unique(session: Session, ods_code: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"A trust with ODS code {ods_code} already exists.") from None


def _with_ics_name(data: dict, current_code: str | None = None) -> dict:
    """With an ``ics_code`` (sent, or kept from before), ``ics`` is that system's name: a name sent with it
    must name the same system (``West Yorkshire ICS`` for QWO is fine), anything else is 422. Without a code,
    ``ics`` is free text; clearing the code keeps the name as text unless ``ics`` says otherwise."""
    code = data.get("ics_code", current_code)
    if code is None:
        return data
    system = ics.BY_CODE[code]
    sent = data.get("ics")
    if sent is not None and ics.match(sent) != system:
        raise ValidationFailed({"ics": [f"Set by ics_code {code} ({system.name}); send ics_code: null to write "
                                        "another name."]})
    if "ics_code" in data or "ics" in data:
        data = {**data, "ics": system.name}
    return data


def create_trust(session: Session, principal: Principal, data: dict) -> Trust:
    data = _with_ics_name(data)
    _ensure_unique_ods(session, data["ods_code"])
    trust = Trust(**data)
    session.add(trust)
    _flush_unique(session, trust.ods_code)
    audit.record(session, principal, "trust", trust.id, "create", {}, audit.snapshot(trust, TRUST_FIELDS))
    return trust


def update_trust(session: Session, principal: Principal, trust: Trust, data: dict) -> Trust:
    data = _with_ics_name(data, trust.ics_code)
    before = audit.snapshot(trust, TRUST_FIELDS)
    if "ods_code" in data:
        _ensure_unique_ods(session, data["ods_code"], trust.id)
    for field, value in data.items():
        setattr(trust, field, value)
    _flush_unique(session, trust.ods_code)
    audit.record(session, principal, "trust", trust.id, "update", before, audit.snapshot(trust, TRUST_FIELDS))
    return trust


def archive_trust(session: Session, principal: Principal, trust: Trust) -> None:
    if trust.archived_at is not None:
        return
    trust.archived_at = utcnow()
    session.flush()
    audit.record(session, principal, "trust", trust.id, "archive",
                 {"archived_at": None}, {"archived_at": audit.snapshot(trust, ("archived_at",))["archived_at"]})


# --- contacts ---------------------------------------------------------------------------------

def list_contacts(trust_id: str, args: dict) -> Select:
    stmt = select(Contact).where(Contact.trust_id == trust_id)
    if "updated_since" in args:
        stmt = stmt.where(Contact.updated_at >= args["updated_since"])
    if args.get("q"):
        stmt = stmt.where(func.lower(Contact.name).contains(args["q"].strip().lower(), autoescape=True))
    return apply_sort(stmt, args.get("sort"), CONTACT_SORTS, default=[Contact.name])


def get_contact(session: Session, contact_id: str) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("No contact with that id.")
    return contact


def create_contact(session: Session, principal: Principal, trust: Trust, data: dict) -> Contact:
    contact = Contact(trust_id=trust.id, **data)
    session.add(contact)
    session.flush()
    audit.record(session, principal, "contact", contact.id, "create", {}, audit.snapshot(contact, CONTACT_FIELDS))
    return contact


def update_contact(session: Session, principal: Principal, contact: Contact, data: dict) -> Contact:
    if contact.erased_at is not None:
        raise Conflict("This contact has been erased and can no longer be changed.")
    before = audit.snapshot(contact, CONTACT_FIELDS)
    for field, value in data.items():
        setattr(contact, field, value)
    session.flush()
    audit.record(session, principal, "contact", contact.id, "update", before, audit.snapshot(contact, CONTACT_FIELDS))
    return contact
