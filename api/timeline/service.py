"""The trust timeline: one ``UNION ALL`` over a query per kind of entry, paginated in the database.

Each source is a function of the trust id returning a ``SELECT`` of the same columns (``kind``, ``at``,
``id``, ``booking_id``, ``summary``, ``rank``, ``updated_at``); the timeline is their union, so a page costs
two statements (the count and the page) whatever the trust's history holds. Adding a kind of entry is one
function and one line in ``SOURCES``.

When an entry happened (``at``): an interaction when it occurred; a masterclass registration when it was made; a booking when it starts (when it was
asked for, while a requested booking has no time yet); an outcome and its next steps when the session
ended, which is when they were agreed, so the history backfilled since 2020 reads in order. At the same
instant, newest first, the next steps come first, then the outcome (``rank``), then by id; oldest first is
exactly the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Select, func, literal, literal_column, select, union_all
from sqlalchemy.orm import Session

from api.bookings.models import Booking, Registration
from api.outcomes.models import NextStep, Outcome
from api.trusts.models import Interaction

# Newest-first tie-break among entries at the same instant: lower first.
_RANKS = {"next_step": 0, "outcome": 1, "booking": 2, "interaction": 3, "registration": 4}


def _columns(kind: str, at, id_, booking_id, summary, updated_at) -> list:
    return [literal(kind).label("kind"), at.label("at"), id_.label("id"), booking_id.label("booking_id"),
            summary.label("summary"), literal(_RANKS[kind]).label("rank"), updated_at.label("updated_at")]


def _interactions(trust_id: str) -> Select:
    return select(*_columns("interaction", Interaction.occurred_at, Interaction.id, Interaction.booking_id,
                            Interaction.kind + literal(": ") + Interaction.summary, Interaction.updated_at)
                  ).where(Interaction.trust_id == trust_id)


def _bookings(trust_id: str) -> Select:
    return select(*_columns("booking", func.coalesce(Booking.starts_at, Booking.created_at), Booking.id, Booking.id,
                            Booking.title + literal(" (") + Booking.status + literal(")"), Booking.updated_at)
                  ).where(Booking.trust_id == trust_id)


def _outcomes(trust_id: str) -> Select:
    return select(*_columns("outcome", Booking.ends_at, Outcome.id, Outcome.booking_id,
                            func.coalesce(Outcome.summary, literal("Outcome recorded for ") + Booking.title),
                            Outcome.updated_at)
                  ).join(Booking, Booking.id == Outcome.booking_id).where(Booking.trust_id == trust_id)


def _next_steps(trust_id: str) -> Select:
    return select(*_columns("next_step", Booking.ends_at, NextStep.id, Outcome.booking_id, NextStep.description,
                            NextStep.updated_at)
                  ).join(Outcome, Outcome.id == NextStep.outcome_id).join(Booking, Booking.id == Outcome.booking_id
                                                                          ).where(Booking.trust_id == trust_id)


def _registrations(trust_id: str) -> Select:
    return select(*_columns("registration", Registration.created_at, Registration.id, Registration.booking_id,
                            literal("Masterclass place: ") + Booking.title + literal(" (") + Registration.status
                            + literal(")"), Registration.updated_at)
                  ).join(Booking, Booking.id == Registration.booking_id).where(Registration.trust_id == trust_id)


SOURCES: dict[str, Callable[[str], Select]] = {
    "interaction": _interactions,
    "booking": _bookings,
    "outcome": _outcomes,
    "next_step": _next_steps,
    "registration": _registrations,
}
KINDS = tuple(SOURCES)


def timeline(session: Session, trust_id: str, kinds: list[str] | None, updated_since: datetime | None,
             oldest_first: bool, pagination_parameters) -> list[dict]:
    """One page of the trust's timeline (two statements); records the total for X-Pagination."""
    parts = []
    for kind in kinds or SOURCES:
        stmt = SOURCES[kind](trust_id)
        if updated_since is not None:
            stmt = stmt.where(stmt.selected_columns.updated_at >= updated_since)
        parts.append(stmt)
    entries = union_all(*parts).subquery("timeline")
    pp = pagination_parameters
    pp.item_count = session.scalar(select(func.count()).select_from(entries))
    # Oldest first is exactly newest first reversed.
    order = ([entries.c.at.asc(), entries.c.rank.desc(), entries.c.id.desc()] if oldest_first
             else [entries.c.at.desc(), entries.c.rank.asc(), entries.c.id.asc()])
    page = session.execute(select(entries.c.kind, entries.c.at, entries.c.id, entries.c.booking_id,
                                  entries.c.summary).order_by(*order)
                           .limit(pp.page_size).offset(pp.first_item))
    return [row._asdict() for row in page]
