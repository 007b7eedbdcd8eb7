"""Entries for unit-of-work writes: what a flush inserted, changed and deleted.

SQLAlchemy's `after_flush` event runs once the flush's statements have been sent, inside
its transaction, while the session still shows what was pending (`session.new`,
`dirty`, `deleted`) and every attribute's history: the before and after values of each
changed column, and the keys the database just generated. So one handler records every
object the flush wrote, and writes all their entries with one `INSERT`; if that insert
fails, the flush fails and the transaction is rolled back with it. Old values the
session never loaded (a deferred or expired column that is set, or an object deleted
while partly expired) are read just before the flush (`before_flush`, `load_unknown`).

Many-to-many links are recorded on each side that maps the relationship: the links
added and removed in the flush are gathered from both sides' collection histories
(deduplicated, so a change made through a backref counts once), and every relationship
over that `secondary` table gets the change on its own object, with the full sorted
list of related keys before and after (read with one `SELECT` per relationship).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy.orm import attributes
from sqlalchemy.orm.base import NO_VALUE

from trivium.audit._capture import Model
from trivium.audit._capture import Pending
from trivium.audit._capture import Tracker
from trivium.audit._capture import jsonable
from trivium.audit._capture import stored_value
from trivium.audit._models import encode_pk

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Dialect
    from sqlalchemy.orm import InstanceState
    from sqlalchemy.orm import RelationshipProperty
    from sqlalchemy.orm import Session

__all__ = ["load_unknown", "record_flush"]

_PASSIVE = attributes.PASSIVE_NO_INITIALIZE  # type: ignore[attr-defined]
_MISSING = object()
_KNOWN = "trivium.audit.loaded"  # session.info: old values read by `load_unknown`
_BATCH = 1000
Link = tuple[str, tuple[tuple[str, Any], ...]]
"""A link row: the secondary table's name and its sorted (column, value) pairs."""


def _pk_values(model: Model, state: InstanceState[Any]) -> dict[str, Any]:
    if state.key is not None:
        return dict(zip(model.pk_keys, state.key[1], strict=True))
    return {key: state.dict.get(key) for key in model.pk_keys}


def _created(model: Model, state: InstanceState[Any], dialect: Dialect) -> dict[str, list[Any]]:
    return {
        key: [None, model.value(key, state.dict[key], dialect)]
        for key in model.columns
        if key in state.dict
    }


def _updated(
    model: Model, state: InstanceState[Any], known: dict[str, Any], dialect: Dialect
) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for key in model.columns:
        if key in model.untracked:
            continue
        history = state.attrs[key].history
        if not history.added and not history.deleted:
            continue
        column = model.columns[key]
        before = known.get(key, history.deleted[0] if history.deleted else None)
        before = stored_value(column, before, dialect)
        after = stored_value(column, history.added[0] if history.added else None, dialect)
        if before == after:
            continue  # unchanged, or changed only below what the column keeps
        changes[key] = [model.value(key, before), model.value(key, after)]
    return changes


def _deleted(
    model: Model, state: InstanceState[Any], known: dict[str, Any], dialect: Dialect
) -> dict[str, list[Any]]:
    values: dict[str, Any] = {}
    for key in model.columns:
        original = state.committed_state.get(key, _MISSING)
        if key in known:
            values[key] = known[key]
        elif original is not _MISSING and original is not NO_VALUE:
            values[key] = original
        elif key in state.dict:
            values[key] = state.dict[key]
    return {key: [model.value(key, value, dialect), None] for key, value in values.items()}


def _unknown(state: InstanceState[Any], key: str, deleting: bool) -> bool:
    """Whether the value `key` had in the database is not in the session (never loaded)."""
    original = state.committed_state.get(key, _MISSING)
    if original is NO_VALUE:
        return True
    return deleting and original is _MISSING and key not in state.dict


def load_unknown(tracker: Tracker, session: Session) -> None:
    """Read the old values a flush will change or delete but were never loaded (`before_flush`).

    An attribute set without being loaded first (deferred by `only()`, expired) has no
    old value in its history: one `SELECT` per model (and 1,000 keys) reads them before
    the flush overwrites them.
    """
    deleted = set(session.deleted)
    wanted: dict[Model, dict[tuple[Any, ...], set[str]]] = {}
    for obj in (*session.dirty, *deleted):
        model = tracker.get(type(obj))
        state: InstanceState[Any] = inspect(obj)
        if model is None or state.key is None:
            continue
        missing = {key for key in model.columns if _unknown(state, key, obj in deleted)}
        if missing:
            wanted.setdefault(model, {})[tuple(state.key[1])] = missing
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for model, rows in wanted.items():
        keys = sorted(set().union(*rows.values()))
        pk_cols = [model.columns[key] for key in model.pk_keys]
        identities = list(rows)
        for start in range(0, len(identities), _BATCH):
            chunk = identities[start : start + _BATCH]
            if len(pk_cols) == 1:
                where = pk_cols[0].in_([identity[0] for identity in chunk])
            else:
                where = tuple_(*pk_cols).in_(chunk)
            query = select(*pk_cols, *(model.columns[key] for key in keys)).where(where)
            for row in session.connection().execute(query):
                pk = encode_pk(tuple(row[: len(pk_cols)]))
                found[(model.table, pk)] = dict(zip(keys, row[len(pk_cols) :], strict=True))
    if found:
        session.info[_KNOWN] = found


def record_flush(tracker: Tracker, session: Session) -> None:
    """Write the entries of the flush `session` just made (the `after_flush` handler)."""
    entries: dict[tuple[str, str], tuple[str, Model, dict[str, list[Any]]]] = {}
    replaced: dict[tuple[str, str], tuple[str, Model, dict[str, list[Any]]]] = {}
    loaded: dict[tuple[str, str], dict[str, Any]] = session.info.pop(_KNOWN, {})
    dialects: dict[Model, Dialect] = {}
    groups = (("create", session.new), ("update", session.dirty), ("delete", session.deleted))
    for action, objects in groups:
        for obj in objects:
            model = tracker.get(type(obj))
            if model is None:
                continue
            state: InstanceState[Any] = inspect(obj)
            pk = model.pk(_pk_values(model, state))
            known = loaded.get((model.table, pk), {})
            dialect = dialects.get(model) or dialects.setdefault(
                model, session.get_bind(mapper=model.mapper).dialect
            )
            if action == "create":
                changes = _created(model, state, dialect)
            elif action == "update":
                changes = _updated(model, state, known, dialect)
            else:
                changes = _deleted(model, state, known, dialect)
            key = (model.table, pk)
            if action == "delete" and entries.get(key, ("",))[0] == "create":
                # One object deleted and another added with its key in the same flush
                # (SQLAlchemy writes it as an UPDATE of the row): both are recorded, the
                # delete first, so the new object's history starts at its create.
                replaced[key] = (action, model, changes)
                continue
            entries[key] = (action, model, changes)
    _record_links(tracker, session, entries)
    pending = Pending()
    for key, (action, model, changes) in entries.items():
        if key in replaced:
            gone, gone_model, gone_changes = replaced[key]
            pending.add(gone, gone_model, key[1], gone_changes)
        if changes or action != "update":
            pending.add(action, model, key[1], changes)
    pending.write(session)


def _link_row(prop: RelationshipProperty[Any], parent: Any, child: Any) -> Link | None:
    """Return the secondary row joining `parent` (on `prop`'s side) to `child`."""
    pairs: list[tuple[str, Any]] = []
    for source, sides in (
        (parent, prop.synchronize_pairs),
        (child, prop.secondary_synchronize_pairs or ()),
    ):
        state = inspect(source)
        mapper = state.mapper
        for local, remote in sides:
            value = state.dict.get(mapper.get_property_by_column(local).key)
            if value is None:
                return None
            pairs.append((remote.name, value))
    secondary: Table = prop.secondary  # type: ignore[assignment]
    return secondary.name, tuple(sorted(pairs))


def _changed_links(session: Session) -> tuple[set[Link], set[Link]]:
    """Return the link rows the flush added and removed, from both sides' histories.

    A deleted object's links are removed with it (SQLAlchemy deletes them in the flush).
    """
    added: set[Link] = set()
    removed: set[Link] = set()
    deleted = set(session.deleted)
    for obj in (*session.new, *session.dirty, *deleted):
        state = inspect(obj)
        for prop in state.mapper.relationships:
            if prop.secondary is None or prop.viewonly:
                continue
            history = attributes.get_history(obj, prop.key, passive=_PASSIVE)
            changes: tuple[tuple[set[Link], list[Any]], ...]
            if obj in deleted:
                changes = ((removed, [*history.deleted, *history.unchanged]),)
            else:
                changes = ((added, list(history.added)), (removed, list(history.deleted)))
            for bucket, children in changes:
                for child in children:
                    row = _link_row(prop, obj, child)
                    if row is not None:
                        bucket.add(row)
    return added - removed, removed - added


def _table_name(prop: RelationshipProperty[Any]) -> str | None:
    return getattr(prop.secondary, "name", None)


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def _key(row: dict[str, Any], columns: list[str]) -> Any:
    values = tuple(row[c] for c in columns)
    return values[0] if len(values) == 1 else values


def _link_props(session: Session, tracker: Tracker, tables: set[str]) -> list[tuple[Model, Any]]:
    """Return the audited many-to-many relationships over `tables`, on any mapped class."""
    registries = {
        inspect(obj).mapper.registry for obj in (*session.new, *session.dirty, *session.deleted)
    }
    found: list[tuple[Model, Any]] = []
    for registry in registries:
        for mapper in registry.mappers:
            model = tracker.get(mapper.class_)
            if model is None:
                continue
            found.extend((model, prop) for prop in model.links if _table_name(prop) in tables)
    return found


def _record_links(
    tracker: Tracker,
    session: Session,
    entries: dict[tuple[str, str], tuple[str, Model, dict[str, list[Any]]]],
) -> None:
    added, removed = _changed_links(session)
    if not added and not removed:
        return
    tables = {name for name, _ in (*added, *removed)}
    for model, prop in _link_props(session, tracker, tables):
        secondary: Table = prop.secondary
        parent_cols = [remote.name for _, remote in prop.synchronize_pairs]
        child_cols = [remote.name for _, remote in prop.secondary_synchronize_pairs]
        if {local.key for local, _ in prop.synchronize_pairs} != {
            c.key for c in model.mapper.primary_key
        }:
            continue  # links through a column other than the primary key: not recorded
        local_keys = [
            model.mapper.get_property_by_column(local).key for local, _ in prop.synchronize_pairs
        ]
        plus: dict[Any, set[Any]] = defaultdict(set)
        minus: dict[Any, set[Any]] = defaultdict(set)
        for bucket, rows in ((plus, added), (minus, removed)):
            for name, pairs in rows:
                if name == secondary.name:
                    row = dict(pairs)
                    bucket[_key(row, parent_cols)].add(_key(row, child_cols))
        parents = set(plus) | set(minus)
        if not parents:
            continue
        current = _current_links(session, secondary, parent_cols, child_cols, parents)
        for parent in parents:
            values = parent if len(parent_cols) > 1 else (parent,)
            pk = model.pk(dict(zip(local_keys, values, strict=True)))
            entry = entries.get((model.table, pk))
            if entry is not None and entry[0] == "delete":
                continue
            after = current.get(parent, set())
            before = (after - plus[parent]) | minus[parent]
            pair = [
                sorted((jsonable(v) for v in before), key=_sort_key),
                sorted((jsonable(v) for v in after), key=_sort_key),
            ]
            if entry is None:
                entries[(model.table, pk)] = ("update", model, {prop.key: pair})
            else:
                entry[2][prop.key] = pair


def _current_links(
    session: Session,
    secondary: Table,
    parent_cols: list[str],
    child_cols: list[str],
    parents: set[Any],
) -> dict[Any, set[Any]]:
    """Read the links the parents have now (the flush has written its changes)."""
    columns = [secondary.c[name] for name in (*parent_cols, *child_cols)]
    if len(parent_cols) == 1:
        where = secondary.c[parent_cols[0]].in_(list(parents))
    else:
        where = tuple_(*(secondary.c[name] for name in parent_cols)).in_(list(parents))
    found: dict[Any, set[Any]] = defaultdict(set)
    for row in session.connection().execute(select(*columns).where(where)):
        values = dict(zip((*parent_cols, *child_cols), row, strict=True))
        found[_key(values, parent_cols)].add(_key(values, child_cols))
    return found
