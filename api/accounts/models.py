"""Partner organisations (their hashed API tokens are ``api.auth.ApiToken``: authentication sits below the
domain packages)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.auth import ApiToken
from api.db import Base, Versioned

__all__ = ["ApiToken", "Partner", "ROLES"]

ROLES = ("coordinator", "viewer", "partner", "metrics")  # metrics: reads /metrics only


class Partner(Versioned, Base):
    __tablename__ = "partners"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="partner")
