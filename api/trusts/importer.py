"""Import trusts from the NHS ODS trust extract (etr.csv) or from a CSV with a header; upsert by ODS code.

The ODS extract has no header: Organisation Code, Name, National Grouping, High Level Health
Geography, Address lines 1-5, Postcode, Open Date, Close Date, ... Its National Grouping is the NHS
England region code, mapped to our regions below; its High Level Health Geography is the commissioning
integrated care board's ODS code, which becomes the trust's `ics_code` when it is one of the 42 systems
(`api.trusts.ics`; an older or unknown code leaves `ics_code` as it is). A CSV with a header names its
columns (`name,ods_code,region,trust_type,ics,ics_code,website,timezone`, optionally `notes`); other
columns, such as the `id` and timestamps of a CSV exported from `GET /api/v1/trusts`, are ignored, so an
export re-imports as is.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Iterator

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import system
from api.errors import ProblemError, flatten_errors
from api.trusts import service as trusts
from api.trusts.ics import BY_CODE as ICS_BY_CODE
from api.trusts.models import Trust
from api.trusts.schemas import TrustPatchSchema, TrustSchema

IMPORTER = system("import-trusts")

# NHS England regions (ODS "National Grouping" since 2020) to ours. The pre-2020 codes Y54 (North of
# England), Y55 (Midlands and East of England) and Y57 (South of England) each span two of our regions,
# so rows carrying them are reported rather than guessed.
NATIONAL_GROUPINGS = {
    "Y56": "london",
    "Y58": "south_west",
    "Y59": "south_east",
    "Y60": "midlands",
    "Y61": "east_of_england",
    "Y62": "north_west",
    "Y63": "north_east_and_yorkshire",
}
HEADER_COLUMNS = ("name", "ods_code", "region", "trust_type", "ics", "ics_code", "website", "timezone", "notes")
NULLABLE = ("ics", "ics_code", "website", "notes")
DEFAULTED = ("trust_type", "timezone")
ODS_MIN_COLUMNS = 12
SMALL_WORDS = {"and", "of", "the", "upon", "on", "in", "for", "at"}
UPPER_WORDS = {"NHS", "UK", "ICB", "ICS", "CIC", "LLP"}


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    layout: str = ""

    def text(self) -> str:
        return (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.rejected)} rejected ({self.layout})")


class ImportFileError(Exception):
    """The file as a whole cannot be read."""


def decode(raw: bytes) -> str:
    """UTF-8 (with or without a BOM); ODS extracts that are not UTF-8 are Windows-1252."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


@dataclass
class Record:
    line: int  # physical line the record starts on, counting from 1
    cells: list[str] | None
    error: str | None = None


def records(text: str) -> Iterator[Record]:
    """CSV records with the physical line each starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    previous = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(previous + 1, None, f"unreadable CSV ({exc})")
            previous = reader.line_num
            continue
        start, previous = previous + 1, reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue  # blank line
        yield Record(start, cells)


def tidy_name(name: str) -> str:
    """ODS names are upper case: 'LEEDS TEACHING HOSPITALS NHS TRUST' -> 'Leeds Teaching Hospitals NHS Trust'."""
    if not name.isupper():
        return name
    words = []
    for i, word in enumerate(name.split()):
        if word in UPPER_WORDS:
            words.append(word)
        elif i and word.lower() in SMALL_WORDS:
            words.append(word.lower())
        else:
            words.append("-".join(part[:1].upper() + part[1:].lower() for part in word.split("-")))
    return " ".join(words)


def _is_header(cells: list[str]) -> bool:
    names = {c.strip().lower() for c in cells}
    return "ods_code" in names and "name" in names


def _ods_row(cells: list[str], today: date) -> dict:
    """A trust from one ODS extract row, or ValueError with the reason."""
    if len(cells) < ODS_MIN_COLUMNS:
        raise ValueError(f"{len(cells)} columns; the ODS trust extract has at least {ODS_MIN_COLUMNS}")
    code, name, grouping = cells[0].strip(), cells[1].strip(), cells[2].strip().upper()
    close = cells[11].strip()
    if close:
        try:
            closed = date(int(close[:4]), int(close[4:6]), int(close[6:8]))
        except ValueError:
            raise ValueError(f"close date {close!r} is not YYYYMMDD") from None
        if closed <= today:
            raise ValueError(f"organisation closed on {closed.isoformat()}")
    region = NATIONAL_GROUPINGS.get(grouping)
    if region is None:
        raise ValueError(f"national grouping {grouping or '(empty)'} does not map to a region "
                         f"(known: {', '.join(sorted(NATIONAL_GROUPINGS))})")
    row = {"ods_code": code, "name": tidy_name(name), "region": region}
    commissioner = cells[3].strip().upper()
    if commissioner in ICS_BY_CODE:
        row["ics_code"] = commissioner
    return row


def _header_row(columns: list[str], cells: list[str]) -> dict:
    if len(cells) != len(columns):
        raise ValueError(f"{len(cells)} fields, the header has {len(columns)}")
    data = {}
    for column, value in zip(columns, cells):
        if column not in HEADER_COLUMNS:
            continue
        value = value.strip()
        if value == "" and column in NULLABLE:
            data[column] = None
        elif value == "" and column in DEFAULTED:
            continue
        else:
            data[column] = value
    return data


def _reason(errors: dict) -> str:
    return "; ".join(f"{f}: {' '.join(m)}" for f, m in flatten_errors(errors).items())


def import_trusts(session: Session, text: str, *, progress=None, today: date | None = None) -> Summary:
    """Upsert trusts by ODS code; each bad row becomes a ``line N: reason`` entry and the rest are kept."""
    today = today or date.today()
    rows = list(records(text))
    summary = Summary()
    if not rows:
        summary.layout = "empty file"
        return summary
    columns = None
    if rows[0].cells and _is_header(rows[0].cells):
        columns = [c.strip().lower() for c in rows[0].cells]
        summary.ignored_columns = [c for c in columns if c not in HEADER_COLUMNS]
        summary.layout = "CSV with a header"
        rows = rows[1:]
    else:
        summary.layout = "NHS ODS trust extract"
    seen: dict[str, int] = {}
    for record in (progress(rows) if progress else rows):
        try:
            _import_one(session, record, columns, today, seen, summary)
        except ValueError as exc:
            summary.rejected.append(f"line {record.line}: {exc}")
    return summary


def _import_one(session: Session, record: Record, columns, today: date, seen: dict, summary: Summary) -> None:
    if record.cells is None:
        raise ValueError(record.error)
    data = _header_row(columns, record.cells) if columns else _ods_row(record.cells, today)
    code = (data.get("ods_code") or "").upper()
    if code in seen:
        raise ValueError(f"ODS code {code} already given on line {seen[code]}")
    existing = session.scalar(select(Trust).where(Trust.ods_code == code)) if code else None
    try:
        loaded = (TrustPatchSchema() if existing else TrustSchema()).load(data)
    except ma.ValidationError as exc:
        raise ValueError(_reason(exc.messages)) from None
    seen[code] = record.line
    try:
        with session.begin_nested():
            if existing is None:
                trusts.create_trust(session, IMPORTER, loaded)
                summary.created += 1
                return
            changed = {k: v for k, v in loaded.items() if getattr(existing, k) != v}
            if not changed:
                summary.unchanged += 1
                return
            trusts.update_trust(session, IMPORTER, existing, changed)
            summary.updated += 1
    except ProblemError as exc:
        raise ValueError(exc.detail or exc.title) from None
