"""Interaction rules: contacts and booking must belong to the interaction's trust."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from api import audit
from api.auth import Principal
from api.bookings.models import Booking
from api.errors import NotFound, ValidationFailed
from api.trusts.models import Contact, Interaction, Trust
from api.web import apply_sort

FIELDS = ("kind", "occurred_at", "summary", "booking_id")
SORTS = {"id": Interaction.id, "occurred_at": Interaction.occurred_at, "kind": Interaction.kind,
         "created_at": Interaction.created_at, "updated_at": Interaction.updated_at}


def _snapshot(interaction: Interaction) -> dict:
    data = audit.snapshot(interaction, FIELDS)
    data["contact_ids"] = sorted(c.id for c in interaction.contacts)
    return data


def list_interactions(trust_id: str, args: dict) -> Select:
    stmt = select(Interaction).options(selectinload(Interaction.contacts)).where(Interaction.trust_id == trust_id)
    if "updated_since" in args:
        stmt = stmt.where(Interaction.updated_at >= args["updated_since"])
    if "kind" in args:
        stmt = stmt.where(Interaction.kind == args["kind"])
    if "booking_id" in args:
        stmt = stmt.where(Interaction.booking_id == args["booking_id"])
    if "contact_id" in args:
        stmt = stmt.where(Interaction.contacts.any(Contact.id == args["contact_id"]))
    if "occurred_from" in args:
        stmt = stmt.where(Interaction.occurred_at >= args["occurred_from"])
    if "occurred_to" in args:
        stmt = stmt.where(Interaction.occurred_at < args["occurred_to"])
    return apply_sort(stmt, args.get("sort"), SORTS, default=[Interaction.occurred_at.desc()])


def get_interaction(session: Session, interaction_id: str) -> Interaction:
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("No interaction with that id.")
    return interaction


def _apply(session: Session, trust_id: str, interaction: Interaction, data: dict) -> None:
    errors: dict[str, list[str]] = {}
    if "contacts" in data:
        wanted = list(dict.fromkeys(data.pop("contacts")))
        found = {c.id: c for c in session.scalars(
            select(Contact).where(Contact.id.in_(wanted), Contact.trust_id == trust_id))} if wanted else {}
        missing = [cid for cid in wanted if cid not in found]
        if missing:
            errors["contact_ids"] = [f"Not contacts of this trust: {', '.join(missing)}."]
        else:
            interaction.contacts = [found[cid] for cid in wanted]
    if data.get("booking_id"):
        booking_trust = session.scalar(select(Booking.trust_id).where(Booking.id == data["booking_id"]))
        if booking_trust != trust_id:
            errors["booking_id"] = ["Not a booking of this trust."]
    if errors:
        raise ValidationFailed(errors)
    for field, value in data.items():
        setattr(interaction, field, value)


def create_interaction(session: Session, principal: Principal, trust: Trust, data: dict) -> Interaction:
    interaction = Interaction(trust_id=trust.id)
    _apply(session, trust.id, interaction, dict(data))
    session.add(interaction)
    session.flush()
    audit.record(session, principal, "interaction", interaction.id, "create", {}, _snapshot(interaction))
    return interaction


def update_interaction(session: Session, principal: Principal, interaction: Interaction, data: dict) -> Interaction:
    before = _snapshot(interaction)
    _apply(session, interaction.trust_id, interaction, dict(data))
    after = _snapshot(interaction)
    if after["contact_ids"] != before["contact_ids"]:
        interaction.touch()
    session.flush()
    audit.record(session, principal, "interaction", interaction.id, "update", before, _snapshot(interaction))
    return interaction


def delete_interaction(session: Session, principal: Principal, interaction: Interaction) -> None:
    before, interaction_id = _snapshot(interaction), interaction.id
    session.delete(interaction)
    session.flush()
    audit.record(session, principal, "interaction", interaction_id, "delete", before, {})
