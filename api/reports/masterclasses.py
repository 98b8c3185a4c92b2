"""The report's ``masterclasses`` section: classes held, places, attendance and the trusts they reached.

Computed from the raw tables for the classes starting in the period (not cancelled): a class has few
registrations, and the section stays exact without a roll-up of its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from api.bookings.models import SEATED, Booking, Registration
from api.trusts.models import REGIONS, Trust

METRICS = ("registrations", "attended", "no_shows", "trusts_reached")
_CLASSES = "__classes__"  # marks the row counting the classes themselves


def _figures(rows) -> dict[str, int]:
    """(trust_id, status, count) rows -> the section's figures for those registrations."""
    figures = dict.fromkeys(METRICS, 0)
    trusts = set()
    for trust_id, status, n in rows:
        figures["registrations"] += n
        figures["attended"] += n if status == "attended" else 0
        figures["no_shows"] += n if status == "no_show" else 0
        trusts.add(trust_id)
    figures["trusts_reached"] = len(trusts)
    return figures


def section(session: Session, in_range: list) -> dict[str, Any]:
    """``classes`` (live masterclasses starting in the period), ``registrations`` (places held: registered,
    attended or no-show), ``attended``, ``no_shows``, ``trusts_reached`` (distinct trusts of those places), and
    the same per region of the participants' trusts."""
    classes = (Booking.kind == "masterclass", Booking.status != "cancelled", *in_range)
    nothing = cast(null(), String)
    # One statement: the classes' count (its own row), then the places by region, trust and status.
    rows = session.execute(union_all(
        select(literal(_CLASSES, String).label("region"), nothing, nothing, func.count())
        .select_from(Booking).where(*classes),
        select(Trust.region, Registration.trust_id, Registration.status, func.count())
        .join(Booking, Booking.id == Registration.booking_id).join(Trust, Trust.id == Registration.trust_id)
        .where(*classes, Registration.status.in_(SEATED))
        .group_by(Trust.region, Registration.trust_id, Registration.status))).all()
    count = next(r[3] for r in rows if r[0] == _CLASSES)
    rows = [r for r in rows if r[0] != _CLASSES]
    by_region = {region: _figures([r[1:] for r in rows if r[0] == region]) for region in REGIONS}
    return {"classes": count, **_figures([r[1:] for r in rows]), "by_region": by_region}


def attended_by(trust_id: str):
    """A trust's engagement: places its people took up in masterclasses (``attended``), as a scalar subquery."""
    return (select(func.count()).select_from(Registration)
            .where(Registration.trust_id == trust_id, Registration.status == "attended").scalar_subquery())


def rows(report: dict) -> list[dict]:
    """The section in the report's long CSV format."""
    figures = report["masterclasses"]
    out = [{"section": "masterclasses", "key": "all", "metric": m, "value": figures[m]}
           for m in ("classes", *METRICS)]
    for region, values in figures["by_region"].items():
        out += [{"section": "masterclasses_by_region", "key": region, "metric": m, "value": v}
                for m, v in values.items()]
    return out
