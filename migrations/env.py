"""Alembic environment: the database URL comes from the caller or DATABASE_URL, metadata from api.models."""

from __future__ import annotations

import os

from alembic import context

import api.models  # noqa: F401  (registers every table)
from api.db import Base, make_engine
from api.config import default_sqlite_url
from api.migrations_state import ROOT

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    return (config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
            or default_sqlite_url(str(ROOT / "instance")))


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = database_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////:memory"):
        os.makedirs(os.path.dirname(os.path.abspath(url.removeprefix("sqlite:///"))) or ".", exist_ok=True)
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
