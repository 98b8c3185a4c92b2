"""Trust shell commands: ``import-trusts FILE.csv``."""

from __future__ import annotations

import sys

import click
from flask import Flask

from api.extensions import Session
from api.trusts.importer import decode, import_trusts


def register(app: Flask) -> None:
    @app.cli.command("import-trusts")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_trusts_command(path: str) -> None:
        """Import trusts from the NHS ODS trust extract (etr.csv) or a CSV with a header.

        Upserts by ODS code. Each bad row is reported as `line N: reason` (physical lines from 1; a
        header is line 1) and skipped; the good rows are kept. Exits with status 1 when any row was rejected.
        """
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
        if summary.rejected:
            sys.exit(1)  # the good rows are committed; a script or cron job still learns that some were not
