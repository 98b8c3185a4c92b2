"""Outcome rules: only delivered bookings, partner scope and redaction, next steps replaced by id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api import audit, outbox
from api.auth import Principal
from api.bookings.models import Booking
from api.db import utcnow
from api.errors import Conflict, NotFound, ValidationFailed
from api.outcomes.models import NextStep, Outcome
from api.outcomes.schemas import NextStepSchema, OutcomeSchema
from api.topics.service import resolve_slugs
from api.web import Redacted, apply_sort

SCALARS = ("summary", "attendance", "digital_definitions", "confidence_before", "confidence_after", "feedback_score")
STEP_FIELDS = ("description", "owner", "due_on", "done")
# A partner reads only what the board took away and committed to.
PARTNER_HIDDEN = frozenset({"attendance", "themes", "digital_definitions", "confidence_before", "confidence_after",
                            "feedback_score"})
STEP_SORTS = {"id": NextStep.id, "due_on": NextStep.due_on, "created_at": NextStep.created_at,
              "updated_at": NextStep.updated_at, "done_at": NextStep.done_at}


def view(principal: Principal) -> str:
    return "partner" if principal.is_partner else "full"


def present(outcome: Outcome, principal: Principal) -> Any:
    return Redacted(outcome, PARTNER_HIDDEN) if principal.is_partner else outcome


def booking_in_scope(session: Session, principal: Principal, booking_id: str) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None or principal.is_partner and booking.partner_id != principal.partner_id:
        raise NotFound("No booking with that id.")
    return booking


def require_delivered(booking: Booking) -> None:
    if booking.status != "delivered":
        raise Conflict(f"This booking is {booking.status}; outcomes are recorded only for delivered sessions.")


def outcome_of(session: Session, booking: Booking) -> Outcome | None:
    return session.scalar(select(Outcome).where(Outcome.booking_id == booking.id))


def get_outcome(session: Session, principal: Principal, booking_id: str) -> Outcome:
    booking = booking_in_scope(session, principal, booking_id)
    require_delivered(booking)
    outcome = outcome_of(session, booking)
    if outcome is None:
        raise NotFound("No outcome has been recorded for this booking yet.")
    return outcome


def snapshot(outcome: Outcome) -> dict:
    data = audit.snapshot(outcome, SCALARS)
    data["digital_definitions"] = list(outcome.digital_definitions or [])
    data["themes"] = sorted(t.slug for t in outcome.themes)
    data["next_steps"] = [{"id": s.id, "description": s.description, "owner": s.owner,
                           "due_on": s.due_on.isoformat() if s.due_on else None, "done": s.done}
                          for s in outcome.next_steps]
    return data


def _apply_steps(outcome: Outcome, steps: list[dict], *, partial: bool = False) -> None:
    """Replace the outcome's steps: a step sent with its ``id`` is kept and updated in place (a PATCH
    changes only the fields it names), one without ``id`` is new, and steps left out are removed."""
    existing = {s.id: s for s in outcome.next_steps}
    kept: list[NextStep] = []
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, item in enumerate(steps):
        step_id = item.get("id")
        if step_id is not None and (step_id not in existing or step_id in seen):
            errors[f"next_steps.{index}.id"] = ["Not a next step of this outcome (omit `id` for a new step)."]
            continue
        if step_id is None and not item.get("description"):
            errors[f"next_steps.{index}.description"] = ["A new step (without `id`) needs a description."]
            continue
        step = existing[step_id] if step_id else NextStep(done=False)
        if step_id:
            seen.add(step_id)
        named = [f for f in STEP_FIELDS if f in item] if partial and step_id else STEP_FIELDS
        if "done" in named:
            done = item.get("done", False)
            if done and not step.done:
                step.done_at = utcnow()
            elif not done:
                step.done_at = None
        for field in named:
            value = item.get(field, False if field == "done" else None)
            if getattr(step, field) != value:
                setattr(step, field, value)
        if step.position != index:
            step.position = index
        kept.append(step)
    if errors:
        raise ValidationFailed(errors)
    outcome.next_steps = kept


def record_outcome(session: Session, principal: Principal, booking: Booking, outcome: Outcome | None,
                   data: dict, *, partial: bool = False) -> Outcome:
    """Create or replace a delivered booking's outcome (``partial``: change only the fields ``data``
    names, as a PATCH does); audited and announced as ``outcome.recorded`` when anything changed."""
    require_delivered(booking)
    if partial and outcome is None:
        raise NotFound("No outcome has been recorded for this booking yet; PUT one first.")
    created = outcome is None
    if created:
        outcome = Outcome(booking_id=booking.id, digital_definitions=[])
        session.add(outcome)
        before: dict = {}
    else:
        before = snapshot(outcome)
    for field in SCALARS:
        if partial and field not in data:
            continue
        value = data.get(field)
        if field == "digital_definitions" and value is None:
            value = []
        if getattr(outcome, field) != value:
            setattr(outcome, field, value)
    if not partial or "themes" in data:
        themes = sorted(resolve_slugs(session, data.get("themes") or [], field="themes"), key=lambda t: t.slug)
        if [t.id for t in outcome.themes] != [t.id for t in themes]:
            outcome.themes = themes
    if not partial or "next_steps" in data:
        _apply_steps(outcome, data.get("next_steps") or [], partial=partial)
    session.flush()
    after = snapshot(outcome)
    if not created and after == before:
        return outcome
    if not created:
        outcome.touch()  # themes or next steps alone still change the outcome's version (its ETag)
        session.flush()
    audit.record(session, principal, "outcome", outcome.id, "create" if created else "update", before, after)
    outbox.emit(session, "outcome.recorded", entity_type="outcome", entity_id=outcome.id,
                partner_id=booking.partner_id, payload=payload(outcome, booking))
    return outcome


def payload(outcome: Outcome, booking: Booking) -> dict:
    return {**OutcomeSchema().dump(outcome), "trust_id": booking.trust_id}


# --- next steps as their own resource -------------------------------------------------------------

def list_next_steps(principal: Principal, args: dict) -> Select:
    stmt = select(NextStep).join(Outcome, Outcome.id == NextStep.outcome_id).join(Booking, Booking.id == Outcome.booking_id)
    if principal.is_partner:
        stmt = stmt.where(Booking.partner_id == principal.partner_id)
    if "done" in args:
        stmt = stmt.where(NextStep.done.is_(args["done"]))
    if "due_before" in args:
        stmt = stmt.where(NextStep.due_on < args["due_before"])
    if "trust_id" in args:
        stmt = stmt.where(Booking.trust_id == args["trust_id"])
    if "updated_since" in args:
        stmt = stmt.where(NextStep.updated_at >= args["updated_since"])
    return apply_sort(stmt, args.get("sort"), STEP_SORTS,
                      default=[NextStep.due_on.is_(None), NextStep.due_on, NextStep.created_at, NextStep.position])


def present_steps(session: Session, steps: list[NextStep]) -> list[dict]:
    """Steps with the booking and trust they belong to (one query for the whole page)."""
    outcome_ids = {s.outcome_id for s in steps}
    owners = {}
    if outcome_ids:
        owners = {row.id: row for row in session.execute(
            select(Outcome.id, Outcome.booking_id, Booking.trust_id)
            .join(Booking, Booking.id == Outcome.booking_id).where(Outcome.id.in_(outcome_ids)))}
    out = []
    for step in steps:
        owner = owners[step.outcome_id]
        out.append({"id": step.id, "outcome_id": step.outcome_id, "booking_id": owner.booking_id,
                    "trust_id": owner.trust_id, "description": step.description, "owner": step.owner,
                    "due_on": step.due_on, "done": step.done, "done_at": step.done_at,
                    "created_at": step.created_at, "updated_at": step.updated_at})
    return out


def get_next_step(session: Session, principal: Principal, step_id: str) -> NextStep:
    step = session.get(NextStep, step_id)
    if step is None:
        raise NotFound("No next step with that id.")
    if principal.is_partner:
        booking = session.get(Booking, step.outcome.booking_id)
        if booking.partner_id != principal.partner_id:
            raise NotFound("No next step with that id.")
    return step


def update_next_step(session: Session, principal: Principal, step: NextStep, data: dict) -> NextStep:
    before = audit.snapshot(step, STEP_FIELDS)
    if "done" in data and data["done"] != step.done:
        step.done_at = utcnow() if data["done"] else None
    for field, value in data.items():
        setattr(step, field, value)
    session.flush()
    after = audit.snapshot(step, STEP_FIELDS)
    if after != before:
        step.outcome.touch()  # the outcome's representation includes its steps
        session.flush()
        audit.record(session, principal, "next_step", step.id, "update", _jsonable(before), _jsonable(after))
        changed = sorted(k for k in after if after[k] != before[k])
        step_json, = present_steps(session, [step])
        booking = session.get(Booking, step_json["booking_id"])
        outbox.emit(session, "next_step.updated", entity_type="next_step", entity_id=step.id,
                    partner_id=booking.partner_id,
                    payload={**NextStepSchema().dump(step_json), "changed_fields": changed,
                             "previous": {k: _jsonable(before)[k] for k in changed}})
    return step


def _jsonable(data: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}
