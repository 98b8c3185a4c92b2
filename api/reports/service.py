"""Programme figures from aggregate queries (over monthly roll-ups and the raw tables), and a trust's engagement
summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, literal, literal_column, select
from sqlalchemy.orm import Session

from api.bookings.models import STATUSES, Booking, BookingSpeaker
from api.db import utcnow
from api.feedback import service as feedback
from api.outcomes.models import NextStep, Outcome, outcome_themes
from api.reports import masterclasses, rollup
from api.reports.models import ReportRollup
from api.reports.rollup import day_start as london_day_start
from api.speakers.models import Speaker
from api.topics.models import Topic
from api.trusts import ics
from api.trusts.models import REGIONS, TRUST_TYPES, Interaction, Trust

UPCOMING = ("requested", "provisional", "confirmed")


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


def _coverage(session: Session, engaged_flag) -> tuple[dict, dict, dict]:
    """Trusts not archived, engaged (``engaged_flag`` is 1) and in all, by region, by trust type and by
    integrated care system (every system, by name; trusts without ``ics_code`` in none)."""
    region = {r: [0, 0] for r in REGIONS}
    kind = {t: [0, 0] for t in TRUST_TYPES}
    systems = {s.code: [0, 0] for s in ics.SYSTEMS}
    for row in session.execute(
            select(Trust.region, Trust.trust_type, Trust.ics_code, func.count(), func.sum(engaged_flag))
            .where(Trust.archived_at.is_(None)).group_by(Trust.region, Trust.trust_type, Trust.ics_code)):
        buckets = [region.setdefault(row[0], [0, 0]), kind.setdefault(row[1], [0, 0])]
        if row[2] is not None:
            buckets.append(systems.setdefault(row[2], [0, 0]))
        for bucket in buckets:
            bucket[0] += int(row[4] or 0)
            bucket[1] += row[3]
    return region, kind, systems


def _report(start, end, by_status: dict, region: dict, kind: dict, systems: dict, by_month: list, themes: list,
            confidence: dict, speakers: list) -> dict[str, Any]:
    def figures(bucket: list[int]) -> dict:
        return {"trusts_engaged": bucket[0], "trusts_total": bucket[1], "coverage": _ratio(*bucket)}

    engaged_total = sum(v[0] for v in region.values())
    trusts_total = sum(v[1] for v in region.values())
    return {
        "from": start, "to": end,
        "bookings_by_status": by_status,
        "trusts_engaged": engaged_total, "trusts_total": trusts_total,
        "coverage": _ratio(engaged_total, trusts_total),
        "by_region": {k: figures(v) for k, v in region.items()},
        "by_trust_type": {k: figures(v) for k, v in kind.items()},
        "by_ics": {code: {"name": ics.BY_CODE[code].name, "region": ics.BY_CODE[code].region, **figures(v)}
                   for code, v in systems.items() if code in ics.BY_CODE},
        "by_month": by_month,
        "themes": themes,
        "confidence": confidence,
        "sessions_by_speaker": speakers,
    }


# --- from the monthly roll-ups ----------------------------------------------------------------------------

@dataclass
class _Totals:
    status: Counter = field(default_factory=Counter)
    by_month: Counter = field(default_factory=Counter)  # delivered sessions
    trusts: set = field(default_factory=set)
    speakers: Counter = field(default_factory=Counter)
    themes: Counter = field(default_factory=Counter)
    confidence: list = field(default_factory=lambda: [0, 0, 0])  # responses, sum before, sum after

    def add(self, month: str, figures: rollup.Figures) -> None:
        self.status.update(figures.status)
        self.by_month[month] += figures.status.get("delivered", 0)
        self.trusts.update(figures.trusts)
        self.speakers.update(figures.speakers)
        self.themes.update(figures.themes)
        for i, n in enumerate((figures.responses, figures.sum_before, figures.sum_after)):
            self.confidence[i] += n


def _in_range(start: date | None, end: date | None) -> list:
    """Bookings starting in [start, end] (London dates, both inclusive); a request without a time is in no period:
    reports count bookings by their time."""
    in_range = [Booking.has_time]
    if start is not None:
        in_range.append(Booking.starts_at >= london_day_start(start))
    if end is not None:
        in_range.append(Booking.starts_at < london_day_start(end + timedelta(days=1)))
    return in_range


def programme(session: Session, start: date | None, end: date | None) -> dict[str, Any]:
    """The programme report for bookings starting in [start, end] (London dates, both inclusive).

    The months the period covers whole are read from the monthly roll-ups, rebuilt first where a write
    changed them since (``api.reports.rollup``); the days of a month it covers in part are aggregated from
    the raw tables. Both give counts and sums, which add; names are joined last. Equal to ``programme_raw``.
    """
    totals = _Totals()
    span = _months_with_bookings(session)
    if span is not None:
        whole, partial = _split(start, end, *span)
        live = rollup.current(session, whole)
        _add_stored(session, totals, [m for m in whole if m not in live])
        for month, figures in live.items():
            totals.add(month, figures)
        for first, last in partial:
            totals.add(first.strftime("%Y-%m"),
                       rollup.figures(session, london_day_start(first), london_day_start(last + timedelta(days=1))))

    by_status = dict.fromkeys(STATUSES, 0)
    by_status.update(totals.status)
    region, kind, systems = _coverage(session, case((Trust.id.in_(sorted(totals.trusts)), 1), else_=0))
    by_month = [{"month": m, "sessions": n} for m, n in sorted(totals.by_month.items()) if n]
    themes = [{"slug": slug, "name": name, "count": totals.themes[topic_id]} for topic_id, slug, name in
              session.execute(select(Topic.id, Topic.slug, Topic.name).where(Topic.id.in_(sorted(totals.themes)))
                              .order_by(Topic.slug))]
    speakers = [{"speaker_id": sid, "name": name, "sessions": totals.speakers[sid]} for sid, name in
                session.execute(select(Speaker.id, Speaker.name).where(Speaker.id.in_(sorted(totals.speakers)))
                                .order_by(Speaker.name, Speaker.id))]
    # Stable sorts keep the database's order (slug; name, id) among equal counts, as ORDER BY count DESC does.
    themes.sort(key=lambda t: -t["count"])
    speakers.sort(key=lambda s: -s["sessions"])
    responses, before, after = totals.confidence
    confidence = {"mean_before": _mean(before / responses) if responses else None,
                  "mean_after": _mean(after / responses) if responses else None,
                  "mean_change": _mean((after - before) / responses) if responses else None,
                  "responses": responses}
    report = _report(start, end, by_status, region, kind, systems, by_month, themes, confidence, speakers)
    report["masterclasses"] = masterclasses.section(session, _in_range(start, end))
    return _with_feedback(session, report)


def _with_feedback(session: Session, report: dict[str, Any]) -> dict[str, Any]:
    """Add ``attendee_feedback`` (survey answers for bookings starting in the period: one aggregate query)."""
    start, end = report["from"], report["to"]
    report["attendee_feedback"] = feedback.report_section(
        session, None if start is None else london_day_start(start),
        None if end is None else london_day_start(end + timedelta(days=1)))
    return report


def _months_with_bookings(session: Session) -> tuple[date, date] | None:
    """The first days of the first and the last London month holding bookings (two index lookups)."""
    first, last = session.execute(select(select(func.min(Booking.starts_at)).scalar_subquery(),
                                         select(func.max(Booking.starts_at)).scalar_subquery())).one()
    if first is None:
        return None
    return tuple(rollup.first_day(rollup.month_of(_instant(v))) for v in (first, last))


def _instant(value) -> datetime:
    if isinstance(value, str):  # SQLite hands back the stored text for an aggregate in a subquery
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))


def _split(start: date | None, end: date | None, first: date, last: date) -> tuple[list[str], list[tuple[date, date]]]:
    """The months [start, end] covers whole (within ``first``..``last``, the months holding bookings) and the
    day ranges it covers of the others, each inside one month."""
    day = timedelta(days=1)
    partial = []
    if start is not None and start.day != 1:
        month_end = rollup.next_month(start) - day
        partial.append((start, month_end if end is None else min(end, month_end)))
    if end is not None and (end + day).day != 1:
        month_start = end.replace(day=1)
        if start is None or start.day == 1 or start.replace(day=1) != month_start:
            partial.append((month_start if start is None else max(start, month_start), end))
    lo = first if start is None else max(first, start if start.day == 1 else rollup.next_month(start))
    stop = rollup.next_month(last)
    if end is not None:
        stop = min(stop, end + day if (end + day).day == 1 else end.replace(day=1))
    whole = []
    while lo < stop:
        whole.append(lo.strftime("%Y-%m"))
        lo = rollup.next_month(lo)
    return whole, [(a, b) for a, b in partial if first <= a.replace(day=1) <= last]


def _add_stored(session: Session, totals: _Totals, months: list[str]) -> None:
    """Add the stored roll-ups of ``months`` (one query: the months come in order, with few gaps)."""
    if not months:
        return
    t = ReportRollup.__table__
    where = [t.c.month.between(months[0], months[-1])]
    if gaps := sorted(set(rollup.months_between(months[0], months[-1])) - set(months)):
        where.append(t.c.month.not_in(gaps))
    # Status rows keep their month (delivered sessions by month); the rest sum over the months. Literal SQL
    # rather than bound values, so PostgreSQL sees the same expression in GROUP BY as in the select list.
    month = case((t.c.dimension == literal_column("'status'"), t.c.month), else_=literal_column("''")).label("m")
    for dimension, key, m, n, before, after in session.connection().execute(
            select(t.c.dimension, t.c.key, month, func.sum(t.c.count), func.sum(t.c.sum_before),
                   func.sum(t.c.sum_after))
            .where(*where).group_by(t.c.dimension, t.c.key, month)).all():
        if dimension == "status":
            totals.status[key] += n
            if key == "delivered":
                totals.by_month[m] += n
        elif dimension == "trust":
            totals.trusts.add(key)
        elif dimension == "speaker":
            totals.speakers[key] += n
        elif dimension == "theme":
            totals.themes[key] += n
        elif dimension == "confidence":
            for i, value in enumerate((n, before, after)):
                totals.confidence[i] += int(value)


# --- from the raw tables ------------------------------------------------------------------------------------

def programme_raw(session: Session, start: date | None, end: date | None) -> dict[str, Any]:
    """The programme report computed from the raw tables alone: the reference ``programme`` must equal."""
    in_range = _in_range(start, end)
    delivered = and_(Booking.status == "delivered", *in_range)

    by_status = dict.fromkeys(STATUSES, 0)
    for status, count in session.execute(
            select(Booking.status, func.count()).where(*in_range).group_by(Booking.status)):
        by_status[status] = count

    region, kind, systems = _coverage(session, case((exists().where(Booking.trust_id == Trust.id, delivered), 1),
                                                    else_=0))

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
        .order_by(per_speaker.c.sessions.desc(), Speaker.name, Speaker.id))]

    confidence = {"mean_before": _mean(conf[0]), "mean_after": _mean(conf[1]), "mean_change": _mean(conf[2]),
                  "responses": conf[3]}
    report = _report(start, end, by_status, region, kind, systems, by_month, themes, confidence, speakers)
    report["masterclasses"] = masterclasses.section(session, in_range)
    return _with_feedback(session, report)


def as_json(report: dict) -> dict:
    """The report as JSON values: ``ProgrammeReportSchema``'s shape (only the period's dates need converting)."""
    return {**report, "from": report["from"] and report["from"].isoformat(),
            "to": report["to"] and report["to"].isoformat()}


def programme_rows(report: dict) -> list[dict]:
    """The report in long format: one ``section,key,metric,value`` row per figure."""
    rows = [{"section": "period", "key": "all", "metric": "from", "value": report["from"]},
            {"section": "period", "key": "all", "metric": "to", "value": report["to"]}]
    rows += [{"section": "bookings_by_status", "key": s, "metric": "bookings", "value": n}
             for s, n in report["bookings_by_status"].items()]
    rows += [{"section": "trusts", "key": "all", "metric": m, "value": report[m]}
             for m in ("trusts_engaged", "trusts_total", "coverage")]
    for section in ("by_region", "by_trust_type", "by_ics"):
        for key, figures in report[section].items():
            rows += [{"section": section, "key": key, "metric": m, "value": v} for m, v in figures.items()]
    rows += [{"section": "by_month", "key": r["month"], "metric": "sessions", "value": r["sessions"]}
             for r in report["by_month"]]
    rows += [{"section": "themes", "key": r["slug"], "metric": "count", "value": r["count"]} for r in report["themes"]]
    rows += [{"section": "confidence", "key": "all", "metric": m, "value": v} for m, v in report["confidence"].items()]
    rows += [{"section": "attendee_feedback", "key": "all", "metric": m, "value": v}
             for m, v in report["attendee_feedback"].items()]
    for r in report["sessions_by_speaker"]:
        rows += [{"section": "sessions_by_speaker", "key": r["speaker_id"], "metric": "name", "value": r["name"]},
                 {"section": "sessions_by_speaker", "key": r["speaker_id"], "metric": "sessions", "value": r["sessions"]}]
    return rows + masterclasses.rows(report)


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
        masterclasses.attended_by(trust_id),
    )).one()
    last = row[2]
    if isinstance(last, str):  # SQLite hands back the stored text for an aggregate
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=ZoneInfo("UTC"))
    return {"sessions_delivered": row[0], "sessions_upcoming": row[1], "last_interaction_at": last,
            "open_next_steps": row[3], "classes_attended": row[4]}
