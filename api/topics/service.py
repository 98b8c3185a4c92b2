"""Topic catalogue rules: unique slugs, resolving slugs given by clients."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api import audit
from api.auth import Principal
from api.errors import Conflict, NotFound, ValidationFailed
from api.topics.models import Topic
from api.web import apply_sort

FIELDS = ("slug", "name", "description")
SORTS = {"id": Topic.id, "slug": Topic.slug, "name": Topic.name, "updated_at": Topic.updated_at,
         "created_at": Topic.created_at}

CATALOGUE = (
    ("what-digital-means", "What digital means", "What 'digital' means for this board and its organisation."),
    ("user-centred-design", "User-centred design", "Designing services around patients, carers and staff."),
    ("prioritisation", "Prioritisation and stopping work", "Choosing what to do, and what to stop doing."),
    ("outcomes-over-outputs", "Outcomes over outputs", "Measuring what changes for people, not what is shipped."),
    ("sustainable-funding", "Sustainable funding", "Funding digital as an ongoing service, not a project."),
    ("culture-and-leadership", "Culture and leadership", "Leading digital change as a board."),
    ("data", "Data", "Using data well: quality, sharing, insight and ethics."),
    ("cyber-security", "Cyber security", "Board-level ownership of cyber risk and resilience."),
    ("integrated-care-systems", "Integrated care systems", "Working digitally across an integrated care system."),
)


def list_topics(args: dict) -> Select:
    stmt = select(Topic)
    if "updated_since" in args:
        stmt = stmt.where(Topic.updated_at >= args["updated_since"])
    return apply_sort(stmt, args.get("sort"), SORTS, default=[Topic.name])


def get_topic(session: Session, topic_id: str) -> Topic:
    topic = session.get(Topic, topic_id)
    if topic is None:
        raise NotFound("No topic with that id.")
    return topic


def resolve_slugs(session: Session, slugs: list[str], field: str = "topics") -> list[Topic]:
    """Topics for the slugs a client gave, in the given order; unknown slugs are a 422 on ``field``."""
    wanted = list(dict.fromkeys(slugs))
    if not wanted:
        return []
    found = {t.slug: t for t in session.scalars(select(Topic).where(Topic.slug.in_(wanted)))}
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise ValidationFailed({field: [f"Unknown topic: {', '.join(unknown)}. See GET /api/v1/topics."]})
    return [found[s] for s in wanted]


def _ensure_unique(session: Session, slug: str, topic_id: str | None = None) -> None:
    clash = session.scalar(select(Topic.id).where(Topic.slug == slug))
    if clash is not None and clash != topic_id:
        raise Conflict(f"A topic with slug {slug!r} already exists.", existing_id=clash)


def create_topic(session: Session, principal: Principal, data: dict) -> Topic:
    _ensure_unique(session, data["slug"])
    topic = Topic(**data)
    session.add(topic)
    session.flush()
    audit.record(session, principal, "topic", topic.id, "create", {}, audit.snapshot(topic, FIELDS))
    return topic


def update_topic(session: Session, principal: Principal, topic: Topic, data: dict) -> Topic:
    before = audit.snapshot(topic, FIELDS)
    if "slug" in data:
        _ensure_unique(session, data["slug"], topic.id)
    for field, value in data.items():
        setattr(topic, field, value)
    session.flush()
    audit.record(session, principal, "topic", topic.id, "update", before, audit.snapshot(topic, FIELDS))
    return topic


def seed_catalogue(session: Session) -> int:
    existing = set(session.scalars(select(Topic.slug)))
    added = 0
    for slug, name, description in CATALOGUE:
        if slug not in existing:
            session.add(Topic(slug=slug, name=name, description=description))
            added += 1
    session.flush()
    return added
