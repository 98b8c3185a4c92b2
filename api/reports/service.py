"""Programme figures computed in the database (GROUP BY), and a trust's engagement summary."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.orm import Session

from api.bookings.models import STATUSES, Booking, BookingSpeaker
from api.db import utcnow
from api.outcomes.models import NextStep, Outcome, outcome_themes
from api.speakers.models import Speaker
from api.topics.models import Topic
from api.trusts.models import REGIONS, TRUST_TYPES, Interaction, Trust

LONDON = ZoneInfo("Europe/London")
UPCOMING = ("requested", "provisional", "confirmed")


def london_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), LONDON)


def london_month(session: Session, column):
    """SQL for the Europe/London month ("YYYY-MM") of a UTC timestamp column.

    PostgreSQL converts with the real zone rules. SQLite has no zones, so it buckets by UTC and moves
    the one boundary hour UK summer time shifts: from the last Sunday of March to the last Sunday of
    October London is UTC+1, so a UTC time in March to September gains an hour (which only changes its
    month when it is 23:xx UTC on a month's last day, always summer time for those months), and a UTC
    time in October to February is already in the London month (31 October 23:xx UTC is after the
    change back). Exact for the UK rules in force since 1996.
    """
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Europe/London", column), "YYYY-MM")
    summer = func.strftime("%m", column).in_(["03", "04", "05", "06", "07", "08", "09"])
    return case((summer, func.strftime("%Y-%m", func.datetime(column, "+1 hour"))),
                else_=func.strftime("%Y-%m", column))


def _ratio(engaged: int, total: int) -> float | None:
    return round(engaged / total, 4) if total else None


def _mean(value) -> float | None:
    return None if value is None else round(float(value), 2)


def programme(session: Session, start: date | None, end: date | None) -> dict[str, Any]:
    """The programme report for bookings starting in [start, end] (London dates, both inclusive)."""
    in_range = []
    if start is not None:
        in_range.append(Booking.starts_at >= london_day_start(start))
    if end is not None:
        in_range.append(Booking.starts_at < london_day_start(end + timedelta(days=1)))
    delivered = and_(Booking.status == "delivered", *in_range)

    by_status = dict.fromkeys(STATUSES, 0)
    for status, count in session.execute(
            select(Booking.status, func.count()).where(*in_range).group_by(Booking.status)):
        by_status[status] = count

    engaged_flag = case((exists().where(Booking.trust_id == Trust.id, delivered), 1), else_=0)
    region = {r: [0, 0] for r in REGIONS}
    kind = {t: [0, 0] for t in TRUST_TYPES}
    for row in session.execute(
            select(Trust.region, Trust.trust_type, func.count(), func.sum(engaged_flag))
            .where(Trust.archived_at.is_(None)).group_by(Trust.region, Trust.trust_type)):
        for bucket in (region.setdefault(row[0], [0, 0]), kind.setdefault(row[1], [0, 0])):
            bucket[0] += int(row[3] or 0)
            bucket[1] += row[2]
    engaged_total = sum(v[0] for v in region.values())
    trusts_total = sum(v[1] for v in region.values())

    month = london_month(session, Booking.starts_at).label("month")
    by_month = [{"month": m, "sessions": n} for m, n in session.execute(
        select(month, func.count()).where(delivered).group_by(month).order_by(month))]

    themes = [{"slug": slug, "name": name, "count": n} for slug, name, n in session.execute(
        select(Topic.slug, Topic.name, func.count())
        .select_from(outcome_themes)
        .join(Topic, Topic.id == outcome_themes.c.topic_id)
        .join(Outcome, Outcome.id == outcome_themes.c.outcome_id)
        .join(Booking, Booking.id == Outcome.booking_id)
        .where(delivered).group_by(Topic.slug, Topic.name).order_by(func.count().desc(), Topic.slug))]

    both = and_(Outcome.confidence_before.is_not(None), Outcome.confidence_after.is_not(None))
    conf = session.execute(
        select(func.avg(Outcome.confidence_before * literal(1.0)), func.avg(Outcome.confidence_after * literal(1.0)),
               func.avg((Outcome.confidence_after - Outcome.confidence_before) * literal(1.0)), func.count())
        .join(Booking, Booking.id == Outcome.booking_id).where(delivered, both)).one()

    # Aggregate the slots first and name the few speakers after: (booking, speaker) is unique, so a plain
    # count is the number of sessions, without DISTINCT over the whole history.
    per_speaker = (select(BookingSpeaker.speaker_id.label("speaker_id"), func.count().label("sessions"))
                   .join(Booking, Booking.id == BookingSpeaker.booking_id)
                   .where(delivered).group_by(BookingSpeaker.speaker_id).subquery())
    speakers = [{"speaker_id": sid, "name": name, "sessions": n} for sid, name, n in session.execute(
        select(Speaker.id, Speaker.name, per_speaker.c.sessions)
        .join(per_speaker, per_speaker.c.speaker_id == Speaker.id)
        .order_by(per_speaker.c.sessions.desc(), Speaker.name))]

    def figures(bucket: list[int]) -> dict:
        return {"trusts_engaged": bucket[0], "trusts_total": bucket[1], "coverage": _ratio(*bucket)}

    return {
        "from": start, "to": end,
        "bookings_by_status": by_status,
        "trusts_engaged": engaged_total, "trusts_total": trusts_total,
        "coverage": _ratio(engaged_total, trusts_total),
        "by_region": {k: figures(v) for k, v in region.items()},
        "by_trust_type": {k: figures(v) for k, v in kind.items()},
        "by_month": by_month,
        "themes": themes,
        "confidence": {"mean_before": _mean(conf[0]), "mean_after": _mean(conf[1]), "mean_change": _mean(conf[2]),
                       "responses": conf[3]},
        "sessions_by_speaker": speakers,
    }


def programme_rows(report: dict) -> list[dict]:
    """The report in long format: one ``section,key,metric,value`` row per figure."""
    rows = [{"section": "period", "key": "all", "metric": "from", "value": report["from"]},
            {"section": "period", "key": "all", "metric": "to", "value": report["to"]}]
    rows += [{"section": "bookings_by_status", "key": s, "metric": "bookings", "value": n}
             for s, n in report["bookings_by_status"].items()]
    rows += [{"section": "trusts", "key": "all", "metric": m, "value": report[m]}
             for m in ("trusts_engaged", "trusts_total", "coverage")]
    for section in ("by_region", "by_trust_type"):
        for key, figures in report[section].items():
            rows += [{"section": section, "key": key, "metric": m, "value": v} for m, v in figures.items()]
    rows += [{"section": "by_month", "key": r["month"], "metric": "sessions", "value": r["sessions"]}
             for r in report["by_month"]]
    rows += [{"section": "themes", "key": r["slug"], "metric": "count", "value": r["count"]} for r in report["themes"]]
    rows += [{"section": "confidence", "key": "all", "metric": m, "value": v} for m, v in report["confidence"].items()]
    for r in report["sessions_by_speaker"]:
        rows += [{"section": "sessions_by_speaker", "key": r["speaker_id"], "metric": "name", "value": r["name"]},
                 {"section": "sessions_by_speaker", "key": r["speaker_id"], "metric": "sessions", "value": r["sessions"]}]
    return rows


def engagement(session: Session, trust_id: str) -> dict[str, Any]:
    """A trust's engagement at a glance, in one query."""
    now = utcnow()
    row = session.execute(select(
        select(func.count()).where(Booking.trust_id == trust_id, Booking.status == "delivered").scalar_subquery(),
        select(func.count()).where(Booking.trust_id == trust_id, Booking.status.in_(UPCOMING),
                                   Booking.starts_at > now).scalar_subquery(),
        select(func.max(Interaction.occurred_at)).where(Interaction.trust_id == trust_id).scalar_subquery(),
        select(func.count()).select_from(NextStep).join(Outcome, Outcome.id == NextStep.outcome_id)
        .join(Booking, Booking.id == Outcome.booking_id)
        .where(Booking.trust_id == trust_id, NextStep.done.is_(False)).scalar_subquery(),
    )).one()
    last = row[2]
    if isinstance(last, str):  # SQLite hands back the stored text for an aggregate
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=ZoneInfo("UTC"))
    return {"sessions_delivered": row[0], "sessions_upcoming": row[1], "last_interaction_at": last,
            "open_next_steps": row[3]}
