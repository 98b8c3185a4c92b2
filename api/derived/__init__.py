"""The one owner of derived state: stored renderings, counters, and what each of them depends on.

Reads are fast because writes store what reads need (a booking's JSON for two audiences, its feed
VEVENT), move a data-state counter (feed ETags, list counts) and mark report months. This package
keeps that correct in one place:

- **The map** (``api.derived_map``, assembled by ``create_app``): every ``Owner`` (an object whose
  renderings are stored: a booking), its ``Rendering``s, and every ``Dependency`` — a column of
  another model that a rendering shows (a speaker's name, a topic's slug...), with the SQL that finds
  the owners showing it. Counters (report months, the data state) are ``Counter``s, called in the
  map's order by one set of session hooks.
- **Writes** report themselves through one path. An owner's own write calls ``refresh(session, obj)``
  (renders and stores every rendering). A change to a dependency is seen at flush (ORM changes) or
  reported with ``changed(session, owner, ids)`` (raw SQL, erasures): the owner then clears the
  renderings that show it and, when the owner's JSON shows it, bumps the owner's version and
  ``updated_at`` (SPEC: a related change is a new version), and the counters are told.
- **Reads** fill missing text through one path, ``fill(session, owner, rendering, ids)``: render
  what is missing, store it best effort (never overwriting a concurrent write), serve it either way.
  A view whose read may store says so with ``@stores_on_read``; ``create_app`` then commits it, best
  effort.

A new derived thing is an entry in the map: a ``Rendering`` (and its column) on an owner, its
``Dependency``s, or a ``Counter``. ``tests/derived/`` generates a test per dependency from the map,
and fails when a rendering shows something the map does not declare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import Select, event, inspect, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.db import utcnow
from api.derived.counters import bump as bump_counters

ALL_RENDERINGS = "*"


@dataclass(frozen=True)
class Rendering:
    """A stored text of an owner (``column`` in the owner's rendering tables); NULL means render on the next read."""

    name: str
    column: str
    in_json: bool  # part of the owner's JSON (its ETag): a change to what it shows bumps the owner's version
    description: str = ""


@dataclass(frozen=True)
class Owner:
    """An object with stored renderings, and how to load, render, store and clear them.

    Rows passed to ``write`` and ``fill_in`` are ``{"id": owner id, rendering name: text, ...}``. ``write``
    (after the owner's own write) stores every rendering; ``fill_in`` (a read) stores only texts still missing,
    never overwriting what a concurrent write stored; ``clear`` sets the named columns NULL for the owners
    selected. None of them may touch the owner's version or ``updated_at``: bumping is the engine's.
    """

    name: str
    model: type
    renderings: tuple[Rendering, ...]
    load: Callable[[Session, Sequence[str]], Iterable[Any]]  # ids -> objects with what rendering reads loaded
    render: Callable[[Any, Any, Sequence[str]], dict[str, str]]  # (object, config, names) -> {name: text}
    write: Callable[[Session, Sequence[Any], list[dict[str, Any]], bool], None]  # ..., created
    fill_in: Callable[[Session, list[dict[str, Any]]], None]
    clear: Callable[[Session, Select, Sequence[str]], None]  # (session, owner ids, column names)

    def rendering(self, name: str) -> Rendering:
        return next(r for r in self.renderings if r.name == name)


@dataclass(frozen=True)
class Dependency:
    """Something an owner's renderings show that is written elsewhere: ``model``'s ``attributes``."""

    name: str
    owner: str
    model: type
    attributes: tuple[str, ...]
    renderings: tuple[str, ...]  # the owner's renderings that show it
    owners_of: Callable[[list[str]], Select]  # ids of changed ``model`` rows -> SELECT of the owners' ids
    description: str = ""


@dataclass(frozen=True)
class Counter:
    """A counter kept with every write (report months, the data state): its session hooks, in map order.

    Its rows live in ``derived_counters`` (``api.derived.counters``): ``before_commit`` returns the keys
    this transaction moves, and the engine moves every counter's keys in one statement."""

    name: str
    after_flush: Callable[[Session], None] | None = None
    bulk: Callable[[Any], None] | None = None  # do_orm_execute of an ORM insert/update/delete
    before_commit: Callable[[Session], Iterable[str] | None] | None = None  # the rows to move (``counters.bump``)
    after_commit: Callable[[Session], None] | None = None
    after_rollback: Callable[[Session], None] | None = None
    owner_bumped: Callable[[Session, str], None] | None = None  # an owner's version moved without an ORM write
    description: str = ""


@dataclass
class Map:
    owners: dict[str, Owner] = field(default_factory=dict)
    dependencies: list[Dependency] = field(default_factory=list)
    counters: list[Counter] = field(default_factory=list)


MAP = Map()


def register(*, owners: Iterable[Owner] = (), dependencies: Iterable[Dependency] = (),
             counters: Iterable[Counter] = ()) -> None:
    """Add entries to the map (``create_app`` does, once per process; registering again replaces)."""
    for owner in owners:
        MAP.owners[owner.name] = owner
    for dependency in dependencies:
        MAP.dependencies[:] = [d for d in MAP.dependencies if d.name != dependency.name] + [dependency]
        known = {r.name for r in MAP.owners[dependency.owner].renderings}
        if not set(dependency.renderings) <= known:
            raise ValueError(f"{dependency.name}: unknown renderings {set(dependency.renderings) - known}")
    for counter in counters:
        MAP.counters[:] = [c for c in MAP.counters if c.name != counter.name] + [counter]
    _install()


# --- writes -------------------------------------------------------------------------------------

def refresh(session: Session, obj: Any, config: Any = None, *, created: bool = False) -> None:
    """After an owner's own write: render and store all its renderings (flushes first, so they show the
    final ``updated_at``). ``created``: the owner is new, so nothing of it is stored yet. Seeders and test
    factories call this too."""
    refresh_many(session, [obj], config, created=created)


def refresh_many(session: Session, objects: Sequence[Any], config: Any = None, *, created: bool = False) -> None:
    if not objects:
        return
    session.flush()
    owner = _owner_of(objects[0])
    config = _config() if config is None else config
    names = [r.name for r in owner.renderings]
    rows = [{"id": obj.id, **owner.render(obj, config, names)} for obj in objects]
    owner.write(session, objects, rows, created)


def changed(session: Session, owner_name: str, owner_ids: Select, renderings: Sequence[str] | str = ALL_RENDERINGS,
            ) -> None:
    """Report owners whose renderings may show something that changed outside an ORM flush (an erasure's
    scrub, a raw SQL write): they are cleared, and bumped when a rendering in their JSON is among them."""
    owner = MAP.owners[owner_name]
    names = [r.name for r in owner.renderings] if renderings == ALL_RENDERINGS else list(renderings)
    _clear(session, owner, owner_ids, names)
    _expire(session)


def _clear(session: Session, owner: Owner, owner_ids: Select, names: Sequence[str]) -> None:
    """Clear these owners' renderings ``names``; a rendering in the owner's JSON also bumps its version and
    ``updated_at`` (and then every rendering goes, as each shows ``updated_at``)."""
    bump = any(owner.rendering(n).in_json for n in names)
    if bump:
        names = [r.name for r in owner.renderings]
        table = owner.model.__table__
        session.connection().execute(update(table).where(table.c.id.in_(owner_ids))
                                     .values(version=table.c.version + 1, updated_at=utcnow()))
    owner.clear(session, owner_ids, [owner.rendering(n).column for n in names])
    session.info.setdefault(_EXPIRE, set()).add(owner.name)
    if bump:
        for counter in MAP.counters:
            if counter.owner_bumped is not None:
                counter.owner_bumped(session, owner.name)


_EXPIRE = "derived_expire"


def _expire(session: Session) -> None:
    """Owners loaded in this session must not keep a cleared text, an old version or ``updated_at``."""
    names = session.info.pop(_EXPIRE, None)
    if not names:
        return
    for name in names:
        owner = MAP.owners[name]
        for obj in list(session.identity_map.values()):
            if isinstance(obj, owner.model):
                session.expire(obj, ["version", "updated_at"])


def _dependencies_hit(session: Session) -> list[tuple[Dependency, list[str]]]:
    hits: dict[str, tuple[Dependency, list[str]]] = {}
    dirty = [obj for obj in session.dirty if session.is_modified(obj, include_collections=False)]
    for dependency in MAP.dependencies:
        for obj in dirty:
            if not isinstance(obj, dependency.model):
                continue
            attrs = inspect(obj).attrs
            if any(attrs[a].history.has_changes() for a in dependency.attributes):
                hits.setdefault(dependency.name, (dependency, []))[1].append(obj.id)
    return list(hits.values())


def _after_flush(session: Session, _context) -> None:
    for dependency, ids in _dependencies_hit(session):
        _clear(session, MAP.owners[dependency.owner], dependency.owners_of(ids), dependency.renderings)
    for counter in MAP.counters:
        if counter.after_flush is not None:
            counter.after_flush(session)


def _after_flush_postexec(session: Session, _context) -> None:
    _expire(session)


def _do_orm_execute(orm_execute_state) -> None:
    if orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete:
        for counter in MAP.counters:
            if counter.bulk is not None:
                counter.bulk(orm_execute_state)


def _before_commit(session: Session) -> None:
    # One dispatcher, so the counters take their row locks in the map's order whatever was imported first.
    if session.in_nested_transaction():
        return  # a savepoint: the outermost commit counts (marks survive the savepoint)
    keys: set[str] = set()
    for counter in MAP.counters:
        if counter.before_commit is not None:
            keys.update(counter.before_commit(session) or ())
    if keys:
        bump_counters(session, keys)  # every counter's rows in one statement, locked in key order


def _after_commit(session: Session) -> None:
    for counter in MAP.counters:
        if counter.after_commit is not None:
            counter.after_commit(session)


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_EXPIRE, None)
        for counter in MAP.counters:
            if counter.after_rollback is not None:
                counter.after_rollback(session)


_INSTALLED = False


def _install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_flush_postexec", _after_flush_postexec)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_soft_rollback)
    _INSTALLED = True


# --- reads --------------------------------------------------------------------------------------

def fill(session: Session, owner_name: str, names: Sequence[str], ids: Sequence[str],
         config: Any = None) -> dict[str, dict[str, str]]:
    """Render these owners' renderings ``names`` (their stored text is missing), store them best effort (only
    where still missing), and return them: id -> {name: text}. Loads per 500 owners, never per owner."""
    if not ids:
        return {}
    owner = MAP.owners[owner_name]
    config = _config() if config is None else config
    rows = []
    for start in range(0, len(ids), 500):
        rows += [{"id": obj.id, **owner.render(obj, config, names)}
                 for obj in owner.load(session, ids[start:start + 500])]
    try:
        owner.fill_in(session, rows)
    except OperationalError:
        # SQLite (WAL) refuses at once to turn a read into a write when another connection committed
        # since it began: serve what was rendered; a later read stores it.
        session.rollback()
    return {row["id"]: row for row in rows}


def stores_on_read(func: Callable | None = None, *, best_effort: bool = True) -> Callable:
    """Mark a GET that may store: ``create_app`` commits it after a successful response. A cache fill (stored
    renderings, report roll-ups) is ``best_effort``: a failed commit is logged and the answer stands. A read
    that must keep what it wrote (the audit entry of a personal-data export) says ``best_effort=False``: it
    commits like a write."""

    def mark(view: Callable) -> Callable:
        view._stores_on_read = "best-effort" if best_effort else "commit"
        return view

    return mark if func is None else mark(func)


def _owner_of(obj: Any) -> Owner:
    return next(o for o in MAP.owners.values() if isinstance(obj, o.model))


def _config() -> Any:
    return current_app.config if has_app_context() else {}
