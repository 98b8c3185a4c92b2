"""More shell commands: ``import-trusts FILE.csv`` and ``privacy retention``."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from api.extensions import Session


def register(app: Flask) -> None:
    @app.cli.command("import-trusts")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_trusts_command(path: str) -> None:
        """Import trusts from the NHS ODS trust extract (etr.csv) or a CSV with a header.

        Upserts by ODS code. Each bad row is reported as `line N: reason` (physical lines from 1; a
        header is line 1) and skipped; the good rows are kept.
        """
        from api.trusts.importer import decode, import_trusts

        with open(path, "rb") as handle:
            text = decode(handle.read())

        def progress(rows):
            with click.progressbar(rows, label="Importing trusts", file=sys.stderr) as bar:
                yield from bar

        session = Session()
        summary = import_trusts(session, text, progress=progress)
        session.commit()
        if summary.ignored_columns:
            click.echo(f"ignored columns: {', '.join(summary.ignored_columns)}")
        for line in summary.rejected:
            click.echo(line)
        click.echo(summary.text())

    privacy_group = AppGroup("privacy", help="Personal data: retention.")

    @privacy_group.command("retention")
    @click.option("--days", type=click.IntRange(min=1), default=None,
                  help="Erase contacts of trusts idle for longer than this (default BOARDROOM_RETENTION_DAYS, 2555).")
    @click.option("--dry-run", is_flag=True, help="List what would be erased and change nothing.")
    def retention(days: int | None, dry_run: bool) -> None:
        """Anonymise contacts of trusts with no booking, interaction or contact update for DAYS days."""
        from api.auth import system
        from api.privacy.service import apply_retention, stale_contacts

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

    from api.webhooks.worker import webhooks_cli  # `webhooks deliver [--once]`

    app.cli.add_command(webhooks_cli)
