"""Bearer tokens, roles and the acting principal; deny by default."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import ForeignKey, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from api.db import Base, UTCDateTime, Versioned
from api.errors import Forbidden, Unauthorized

TOKEN_PREFIX = "brt_"
ALL_ROLES = ("coordinator", "viewer", "partner")
READERS = ("coordinator", "viewer")


class ApiToken(Versioned, Base):
    """A hashed API token (its partner organisation is ``api.accounts.models.Partner``)."""

    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True)
    token_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 of the bearer token; the token itself is never stored."
    )
    prefix: Mapped[str] = mapped_column(String(12), comment="First characters of the token, to recognise it.")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    partner: Mapped[Partner | None] = relationship(back_populates="tokens")  # noqa: F821 (resolved by name)


@dataclass(frozen=True)
class Principal:
    """Who is acting: the token's id, name and role, and its partner for partner tokens."""

    token_id: str
    name: str
    role: str
    partner_id: str | None = None

    @property
    def is_partner(self) -> bool:
        return self.role == "partner"

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    @property
    def is_system(self) -> bool:
        """A shell command or job acting without a token (audited with no token id)."""
        return self.token_id == SYSTEM_TOKEN_ID


SYSTEM_TOKEN_ID = "system"


def system(name: str = "system") -> Principal:
    """The principal of a shell command or job (``import-trusts``, retention): a coordinator without a token."""
    return Principal(token_id=SYSTEM_TOKEN_ID, name=name, role="coordinator")


SYSTEM = system()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> str:
    """A random bearer token with 256 bits of entropy."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@lru_cache(maxsize=1)
def _token_statement():
    # Built once: every request runs it, and SQLAlchemy's compiled cache then serves it as is.
    return select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.partner_id).where(
        ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))


def authenticate(session: Session, authorization: str | None) -> Principal:
    """Resolve an ``Authorization: Bearer`` header to a principal, or raise 401."""
    challenge = {"WWW-Authenticate": 'Bearer realm="boardroom"'}
    if not authorization:
        raise Unauthorized("Send 'Authorization: Bearer <token>'.", headers=challenge)
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise Unauthorized("Send 'Authorization: Bearer <token>'.", headers=challenge)
    row = session.connection().execute(_token_statement(), {"token_hash": hash_token(token)}).first()
    if row is None:
        raise Unauthorized("The token is unknown or has been revoked.",
                           headers={"WWW-Authenticate": 'Bearer realm="boardroom", error="invalid_token"'})
    return Principal(token_id=row.id, name=row.name, role=row.role, partner_id=row.partner_id)


def authorise(principal: Principal, roles: tuple[str, ...]) -> None:
    if principal.role not in roles:
        raise Forbidden(f"A {principal.role} token may not do this; it needs one of: {', '.join(roles)}.")
