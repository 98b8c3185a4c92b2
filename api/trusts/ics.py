"""The 42 integrated care systems of England: reference data shipped with the product.

As established on 1 July 2022. ``code`` is the ODS code of the system's integrated care board (the code
the NHS ODS trust extract carries in its "High Level Health Geography" column), ``name`` the system's
area as NHS England names it, ``region`` the NHS England region in our trust ``region`` values.
Reference data, not rows: it changes with the product (a release), never through the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class IntegratedCareSystem:
    code: str
    name: str
    region: str

    @property
    def board_name(self) -> str:
        """The statutory body's name as ODS spells it (``NHS West Yorkshire Integrated Care Board``)."""
        return f"NHS {self.name} Integrated Care Board"


_SYSTEMS = {
    "north_east_and_yorkshire": (
        ("QHM", "North East and North Cumbria"),
        ("QOQ", "Humber and North Yorkshire"),
        ("QF7", "South Yorkshire"),
        ("QWO", "West Yorkshire"),
    ),
    "north_west": (
        ("QYG", "Cheshire and Merseyside"),
        ("QOP", "Greater Manchester"),
        ("QE1", "Lancashire and South Cumbria"),
    ),
    "midlands": (
        ("QHL", "Birmingham and Solihull"),
        ("QUA", "Black Country"),
        ("QWU", "Coventry and Warwickshire"),
        ("QJ2", "Derby and Derbyshire"),
        ("QGH", "Herefordshire and Worcestershire"),
        ("QK1", "Leicester, Leicestershire and Rutland"),
        ("QJM", "Lincolnshire"),
        ("QPM", "Northamptonshire"),
        ("QT1", "Nottingham and Nottinghamshire"),
        ("QOC", "Shropshire, Telford and Wrekin"),
        ("QNC", "Staffordshire and Stoke-on-Trent"),
    ),
    "east_of_england": (
        ("QHG", "Bedfordshire, Luton and Milton Keynes"),
        ("QUE", "Cambridgeshire and Peterborough"),
        ("QM7", "Hertfordshire and West Essex"),
        ("QH8", "Mid and South Essex"),
        ("QMM", "Norfolk and Waveney"),
        ("QJG", "Suffolk and North East Essex"),
    ),
    "london": (
        ("QMJ", "North Central London"),
        ("QMF", "North East London"),
        ("QRV", "North West London"),
        ("QKK", "South East London"),
        ("QWE", "South West London"),
    ),
    "south_east": (
        ("QU9", "Buckinghamshire, Oxfordshire and Berkshire West"),
        ("QNQ", "Frimley"),
        ("QRL", "Hampshire and Isle of Wight"),
        ("QKS", "Kent and Medway"),
        ("QXU", "Surrey Heartlands"),
        ("QNX", "Sussex"),
    ),
    "south_west": (
        ("QOX", "Bath and North East Somerset, Swindon and Wiltshire"),
        ("QUY", "Bristol, North Somerset and South Gloucestershire"),
        ("QT6", "Cornwall and the Isles of Scilly"),
        ("QJK", "Devon"),
        ("QVV", "Dorset"),
        ("QR1", "Gloucestershire"),
        ("QSL", "Somerset"),
    ),
}

ESTABLISHED = datetime(2022, 6, 30, 23, 0, tzinfo=UTC)  # 1 July 2022, Europe/London: the data's "updated_at"

SYSTEMS: tuple[IntegratedCareSystem, ...] = tuple(sorted(
    (IntegratedCareSystem(code, name, region) for region, systems in _SYSTEMS.items() for code, name in systems),
    key=lambda system: system.name))
BY_CODE: dict[str, IntegratedCareSystem] = {system.code: system for system in SYSTEMS}
CODES: tuple[str, ...] = tuple(sorted(BY_CODE))

# What people write around a system's name: "NHS ...", "... ICS", "... Integrated Care Board", "... Health and
# Care Partnership".
_AFFIXES = re.compile(r"^(nhs )|( (ics|icb|stp|integrated care (system|board|partnership)|health and care"
                      r"( partnership| system)?|partnership))+$")


def _key(text: str) -> str:
    text = re.sub(r"[^a-z0-9]+", " ", text.lower().replace("&", " and ")).strip()
    previous = None
    while previous != text:
        previous, text = text, _AFFIXES.sub("", text).strip()
    return text


_BY_KEY = {_key(system.name): system for system in SYSTEMS}


def match(text: str | None) -> IntegratedCareSystem | None:
    """The system a free-text ``ics`` names, or None: case, punctuation, ``&`` and the usual prefixes and
    suffixes ("NHS", "ICS", "ICB", "Integrated Care System", "Health and Care Partnership") do not matter;
    a bare ODS code (``QWO``) matches too. Anything else (an abbreviation, a former STP name) is not guessed."""
    if not text:
        return None
    code = text.strip().upper()
    if code in BY_CODE:
        return BY_CODE[code]
    return _BY_KEY.get(_key(text))


def systems(region: str | None = None, updated_since: datetime | None = None,
            sort: str | None = None) -> list[IntegratedCareSystem]:
    """The systems of a region (or all), by ``sort`` (``code``, ``name`` or ``region``, ``-`` descending; then
    by name); none when they have not changed since ``updated_since``."""
    if updated_since is not None and updated_since > ESTABLISHED:
        return []
    found = [s for s in SYSTEMS if region is None or s.region == region]
    if sort:
        field = sort.lstrip("-")
        found.sort(key=lambda s: (getattr(s, field), s.name), reverse=sort.startswith("-"))
    return found
