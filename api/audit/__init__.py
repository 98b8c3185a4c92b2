"""The audit trail: who changed what, when, with the fields before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.auth import Principal
from api.db import Base, Id, UTCDateTime, utcnow

# Personal fields are recorded as changed but never with their values.
MASKED_FIELDS = frozenset({"email", "phone"})
MASK = "***"


class AuditEvent(Id, Base):
    __tablename__ = "audit_events"

    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_token_id: Mapped[str | None] = mapped_column(String(36))
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(20))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict] = mapped_column(JSON, default=dict, comment='{"field": {"before": x, "after": y}}')


def _mask(field: str, value: Any) -> Any:
    if field in MASKED_FIELDS and value not in (None, ""):
        return MASK
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields that differ, as ``{field: {"before": old, "after": new}}`` with personal values masked."""
    changes = {}
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old != new:
            changes[field] = {"before": _mask(field, old), "after": _mask(field, new)}
    return changes


def record(session: Session, principal: Principal, entity_type: str, entity_id: str, action: str,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEvent | None:
    """Add an audit event to the current transaction (nothing for an update that changed nothing)."""
    changes = diff(before or {}, after or {})
    if action == "update" and not changes:
        return None
    event = AuditEvent(
        actor_token_id=None if principal.is_system else principal.token_id,
        actor_name=principal.name, actor_role=principal.role,
        entity_type=entity_type, entity_id=entity_id, action=action, changes=changes,
    )
    session.add(event)
    return event


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """Plain JSON-able values of an object's fields, for before/after comparison."""
    out = {}
    for field in fields:
        value = getattr(obj, field)
        if isinstance(value, datetime):
            value = value.isoformat().replace("+00:00", "Z")
        elif isinstance(value, (list, tuple, set)):
            value = sorted(value)
        out[field] = value
    return out
