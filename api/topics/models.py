"""The catalogue of programme topics (what digital means, user-centred design, ...)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, Versioned


class Topic(Versioned, Base):
    __tablename__ = "topics"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
