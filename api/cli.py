"""Shell commands: ``flask --app wsgi db upgrade | seed-demo | tokens create | openapi write | ...``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from api.extensions import Session


def register_commands(app: Flask) -> None:
    db_group = AppGroup("db", help="Database schema (Alembic migrations).")

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        """Upgrade the database to REVISION (default: head)."""
        from alembic import command

        from api.migrations_state import alembic_config

        command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
        click.echo(f"database at {revision}")

    @db_group.command("downgrade")
    @click.argument("revision")
    def db_downgrade(revision: str) -> None:
        """Downgrade the database to REVISION (e.g. base)."""
        from alembic import command

        from api.migrations_state import alembic_config

        command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
        click.echo(f"database at {revision}")

    app.cli.add_command(db_group)

    tokens_group = AppGroup("tokens", help="API tokens.")

    @tokens_group.command("create")
    @click.argument("name")
    @click.option("--role", type=click.Choice(["coordinator", "viewer", "partner", "metrics"]), required=True)
    @click.option("--partner", "partner_slug", help="Partner slug (required for --role partner).")
    def tokens_create(name: str, role: str, partner_slug: str | None) -> None:
        """Create a token and print it alone on the last line (it is stored hashed, shown once)."""
        from api.accounts import service
        from api.auth import SYSTEM
        from api.errors import ProblemError

        session = Session()
        partner_id = None
        if partner_slug:
            partner = service.partner_by_slug(session, partner_slug)
            if partner is None:
                raise click.UsageError(f"no partner with slug {partner_slug!r}")
            partner_id = partner.id
        try:
            token, secret = service.create_token(session, SYSTEM, name=name, role=role, partner_id=partner_id)
        except ProblemError as exc:
            raise click.UsageError(exc.detail or str(exc)) from None
        session.commit()
        click.echo(f"created {role} token {token.id} ({name}); it will not be shown again:")
        click.echo(secret)

    app.cli.add_command(tokens_group)

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already holds trusts.")
    def seed_demo(if_empty: bool) -> None:
        """Load a realistic demo programme (trusts, contacts, speakers, bookings, outcomes)."""
        from api.demo import seed

        summary = seed(Session(), only_if_empty=if_empty)
        Session.commit()
        click.echo(summary)

    @app.cli.command("purge-expired")
    def purge_expired() -> None:
        """Delete stored Idempotency-Key responses past their retention (run daily from cron)."""
        from api.idempotency import purge_expired as purge

        removed = purge(Session())
        Session.commit()
        click.echo(f"removed {removed} expired idempotency records")

    openapi_group = AppGroup("openapi", help="The OpenAPI document.")

    @openapi_group.command("write")
    @click.argument("path", default="openapi/openapi.json")
    def openapi_write(path: str) -> None:
        """Write the OpenAPI document the app serves to PATH."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(openapi_text(current_app) + "\n", encoding="utf-8")
        click.echo(f"wrote {path}")

    app.cli.add_command(openapi_group)

    from api.privacy.commands import register as register_privacy
    from api.trusts.commands import register as register_trusts
    from api.webhooks.worker import webhooks_cli  # `webhooks deliver [--once]`

    register_trusts(app)
    register_privacy(app)
    app.cli.add_command(webhooks_cli)


def openapi_text(app: Flask) -> str:
    with app.test_client() as client:
        return json.dumps(client.get("/openapi.json").get_json(), indent=2, ensure_ascii=False)
