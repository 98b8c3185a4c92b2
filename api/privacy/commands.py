"""Privacy shell commands: ``privacy retention``."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from api.auth import system
from api.extensions import Session
from api.privacy.service import apply_retention, stale_contacts


def register(app: Flask) -> None:
    privacy_group = AppGroup("privacy", help="Personal data: retention.")

    @privacy_group.command("retention")
    @click.option("--days", type=click.IntRange(min=1), default=None,
                  help="Erase contacts of trusts idle for longer than this (default BOARDROOM_RETENTION_DAYS, 2555).")
    @click.option("--dry-run", is_flag=True, help="List what would be erased and change nothing.")
    def retention(days: int | None, dry_run: bool) -> None:
        """Anonymise contacts of trusts with no booking, interaction or contact update for DAYS days."""
        if days is None:
            days = int(current_app.config.get("RETENTION_DAYS") or os.environ.get("BOARDROOM_RETENTION_DAYS") or 2555)
        session = Session()
        contacts = stale_contacts(session, days)
        for contact in contacts:
            click.echo(f"{'would erase' if dry_run else 'erasing'} contact {contact.id} (trust {contact.trust_id})")
        if dry_run:
            session.rollback()
            click.echo(f"{len(contacts)} contacts would be erased (idle for more than {days} days); nothing changed")
            return
        erased = apply_retention(session, system("privacy retention"),
                                 contacts)
        session.commit()
        click.echo(f"{erased} contacts erased (trusts idle for more than {days} days)")

    app.cli.add_command(privacy_group)
