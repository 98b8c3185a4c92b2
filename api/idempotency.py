"""Idempotency-Key for POST: claim before the work, store the response with the work.

A key is scoped to the token's principal and the request path. On PostgreSQL the claim is a
transaction-scoped advisory lock taken before the work runs: a concurrent request with the same
key cannot take it and answers 409, and a crash releases it with nothing stored. On SQLite every
write transaction starts with BEGIN IMMEDIATE, so requests with the same key run one after the
other and the later ones replay the stored response. The response row is added to the request's
own transaction, so it commits (or rolls back) with the work.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from api import jsonbody
from api.db import Base, Id, UTCDateTime, utcnow
from api.errors import Conflict, ValidationFailed

REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


class IdempotencyRecord(Id, Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("principal_id", "route", "key"),)

    principal_id: Mapped[str] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    route: Mapped[str] = mapped_column(String(500), comment="Method and path the key was used on.")
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64), comment="SHA-256 of the canonical JSON body.")
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[str] = mapped_column(Text, default="{}")
    created_id: Mapped[str | None] = mapped_column(
        String(36), comment="For responses holding a secret: the created id, named in the 409 on replay."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


@dataclass
class Claim:
    principal_id: str
    route: str
    key: str
    fingerprint: str


def fingerprint(body: bytes) -> str:
    """Compare bodies as parsed JSON: key order and whitespace do not matter."""
    try:
        canonical = json.dumps(jsonbody.parse(body or b"null"), sort_keys=True, separators=(",", ":"))
    except ValueError:  # not JSON the API takes (the request will be refused): compare the bytes
        canonical = "raw:" + hashlib.sha256(body).hexdigest()
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_id(claim: Claim) -> int:
    digest = hashlib.sha256(f"{claim.principal_id}\0{claim.route}\0{claim.key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def validate_key(key: str) -> None:
    if not (1 <= len(key) <= 255) or not key.isprintable():
        raise ValidationFailed({"Idempotency-Key": ["Must be 1 to 255 printable characters."]})


def begin(session: Session, claim: Claim) -> IdempotencyRecord | None:
    """Claim the key; return the stored record to replay, or None to run the request."""
    if session.get_bind().dialect.name == "postgresql":
        locked = session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _lock_id(claim)}).scalar()
        if not locked:
            raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
    record = session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal_id == claim.principal_id,
            IdempotencyRecord.route == claim.route,
            IdempotencyRecord.key == claim.key,
        )
    ).first()
    if record is None:
        return None
    if record.expires_at <= utcnow():
        session.delete(record)
        session.flush()
        return None
    if record.fingerprint != claim.fingerprint:
        raise ValidationFailed(
            {"Idempotency-Key": ["This key was already used with a different request body."]},
            detail="This Idempotency-Key was already used with a different request body; use a new key.",
        )
    if record.created_id is not None:
        raise Conflict(
            f"This Idempotency-Key already created {record.created_id}; its secret was shown once and is not "
            "stored. Fetch the object by id, or revoke it and create another.",
            created_id=record.created_id,
        )
    return record


def store(session: Session, claim: Claim, *, status_code: int, body: str | None, headers: dict,
          ttl_hours: int, created_id: str | None = None) -> None:
    """Add the response to the request's transaction (never a secret: only the created id)."""
    session.add(IdempotencyRecord(
        principal_id=claim.principal_id, route=claim.route, key=claim.key, fingerprint=claim.fingerprint,
        status_code=status_code, body=None if created_id else body,
        headers=json.dumps({k: v for k, v in headers.items() if k in REPLAYED_HEADERS}),
        created_id=created_id, expires_at=utcnow() + timedelta(hours=ttl_hours),
    ))


def purge_expired(session: Session) -> int:
    return session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())).rowcount
