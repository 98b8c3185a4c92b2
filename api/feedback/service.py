"""Survey rules: links only for delivered bookings, one live link per booking, responses tied to a named
attendee, erasure, and the report's feedback figures (aggregated in one query)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import Select, case, func, literal, select, update
from sqlalchemy.orm import Session

from api import audit
from api.auth import Principal, hash_token, system
from api.bookings.models import Booking, booking_attendees
from api.db import utcnow
from api.errors import Conflict, NotFound
from api.feedback.models import SurveyLink, SurveyResponse
from api.trusts.models import Contact
from api.web import apply_sort

SURVEY_TOKEN_PREFIX = "brs_"
RESPONDENT = system("survey respondent")  # answers come from the public form, without a token
RESPONSE_SORTS = {"id": SurveyResponse.id, "created_at": SurveyResponse.created_at,
                  "updated_at": SurveyResponse.updated_at, "usefulness": SurveyResponse.usefulness,
                  "confidence_before": SurveyResponse.confidence_before,
                  "confidence_after": SurveyResponse.confidence_after}
_AUDITED = ("booking_id", "contact_id", "confidence_before", "confidence_after", "usefulness")


def _booking(session: Session, booking_id: str) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("No booking with that id.")
    return booking


def survey_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/survey/{token}"


def create_link(session: Session, principal: Principal, booking_id: str) -> tuple[SurveyLink, str]:
    """A new survey link for a delivered booking; any earlier link of the booking stops working (rotation).

    The token is returned once and stored hashed."""
    booking = _booking(session, booking_id)
    if booking.status != "delivered":
        raise Conflict(f"This booking is {booking.status}; surveys are sent only for delivered sessions.")
    now = utcnow()
    for old in session.scalars(select(SurveyLink).where(SurveyLink.booking_id == booking.id,
                                                        SurveyLink.revoked_at.is_(None))):
        old.revoked_at = now
        audit.record(session, principal, "survey_link", old.id, "revoke", {"revoked": False}, {"revoked": True})
    token = SURVEY_TOKEN_PREFIX + secrets.token_urlsafe(32)
    link = SurveyLink(booking_id=booking.id, token_hash=hash_token(token),
                      created_by_token_id=None if principal.is_system else principal.token_id)
    session.add(link)
    session.flush()
    audit.record(session, principal, "survey_link", link.id, "create", {}, {"booking_id": booking.id})
    link.responses = 0
    return link, token


def current_link(session: Session, booking_id: str) -> SurveyLink:
    """The booking's live survey link (404 when it has none)."""
    _booking(session, booking_id)
    link = session.scalar(select(SurveyLink).where(SurveyLink.booking_id == booking_id,
                                                   SurveyLink.revoked_at.is_(None)))
    if link is None:
        raise NotFound("This booking has no live survey link.")
    link.responses = session.scalar(select(func.count()).where(SurveyResponse.link_id == link.id))
    return link


def revoke_link(session: Session, principal: Principal, link: SurveyLink) -> None:
    """Revoke a survey link: its URL answers 404 from now on; the answers given stay."""
    link.revoked_at = utcnow()
    session.flush()
    audit.record(session, principal, "survey_link", link.id, "revoke", {"revoked": False}, {"revoked": True})


def link_by_token(session: Session, token: str) -> SurveyLink:
    """The live link with this URL token (404 if unknown or revoked)."""
    link = session.scalar(select(SurveyLink).where(SurveyLink.token_hash == hash_token(token),
                                                   SurveyLink.revoked_at.is_(None)))
    if link is None:
        raise NotFound("This survey link is not valid (it may have been replaced or withdrawn).")
    return link


def booking_title(session: Session, link: SurveyLink) -> str:
    booking = session.get(Booking, link.booking_id)
    return booking.title or "Board development session"


def _normalised(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def _matching_attendee(session: Session, booking_id: str, name: str | None) -> str | None:
    """The booking attendee whose name is the given one (case and spacing aside), if exactly one is."""
    if not name:
        return None
    rows = session.execute(select(Contact.id, Contact.name)
                           .join(booking_attendees, booking_attendees.c.contact_id == Contact.id)
                           .where(booking_attendees.c.booking_id == booking_id, Contact.erased_at.is_(None))).all()
    matches = [contact_id for contact_id, contact_name in rows if _normalised(contact_name) == _normalised(name)]
    return matches[0] if len(matches) == 1 else None


def submit(session: Session, link: SurveyLink, answers: dict) -> SurveyResponse:
    """Store one answer given through ``link`` (``answers``: the form's validated fields)."""
    response = SurveyResponse(booking_id=link.booking_id, link_id=link.id,
                              contact_id=_matching_attendee(session, link.booking_id, answers.get("name")),
                              **answers)
    session.add(response)
    session.flush()
    audit.record(session, RESPONDENT, "survey_response", response.id, "create", {},
                 audit.snapshot(response, _AUDITED))
    return response


def list_responses(session: Session, booking_id: str, args: dict) -> Select:
    _booking(session, booking_id)
    stmt = select(SurveyResponse).where(SurveyResponse.booking_id == booking_id)
    if "updated_since" in args:
        stmt = stmt.where(SurveyResponse.updated_at >= args["updated_since"])
    return apply_sort(stmt, args.get("sort"), RESPONSE_SORTS, default=[SurveyResponse.created_at])


# --- personal data ---------------------------------------------------------------------------------

def responses_of_contact(session: Session, contact_id: str) -> list[SurveyResponse]:
    """The answers tied to a contact (their subject access export)."""
    return list(session.scalars(select(SurveyResponse).where(SurveyResponse.contact_id == contact_id)
                                .order_by(SurveyResponse.created_at, SurveyResponse.id)))


# --- erasure ------------------------------------------------------------------------------------

def erase_contact_responses(session: Session, contact_id: str) -> int:
    """Anonymise the answers tied to an erased contact: no name, no free text, no link to them; the scores
    stay, so the figures do not change. Returns how many were anonymised."""
    result = session.execute(
        update(SurveyResponse).where(SurveyResponse.contact_id == contact_id)
        .values(contact_id=None, name=None, next_step=None, updated_at=utcnow(),
                version=SurveyResponse.version + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount


# --- the report's figures -------------------------------------------------------------------------

def report_section(session: Session, starts_from: datetime | None, starts_before: datetime | None) -> dict:
    """``attendee_feedback`` for bookings starting in [starts_from, starts_before): one aggregate query."""
    r = SurveyResponse
    where = []
    if starts_from is not None:
        where.append(Booking.starts_at >= starts_from)
    if starts_before is not None:
        where.append(Booking.starts_at < starts_before)
    n, before, after, change, useful, promoters, detractors = session.execute(
        select(func.count(), func.avg(r.confidence_before * literal(1.0)), func.avg(r.confidence_after * literal(1.0)),
               func.avg((r.confidence_after - r.confidence_before) * literal(1.0)),
               func.avg(r.usefulness * literal(1.0)),
               func.coalesce(func.sum(case((r.usefulness >= 9, 1), else_=0)), 0),
               func.coalesce(func.sum(case((r.usefulness <= 6, 1), else_=0)), 0))
        .select_from(r).join(Booking, Booking.id == r.booking_id).where(*where)).one()

    def mean(value) -> float | None:
        return None if value is None else round(float(value), 2)

    return {"responses": n, "mean_confidence_before": mean(before), "mean_confidence_after": mean(after),
            "mean_confidence_change": mean(change), "mean_usefulness": mean(useful),
            "net_promoter_score": round((int(promoters) - int(detractors)) * 100 / n, 1) if n else None}
