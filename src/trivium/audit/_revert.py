"""Put an object back into the state an audit entry recorded.

The state *after* an entry is rebuilt from the object as it is now, by undoing the
entries that came after it, newest first: an update's `before` values are put back, a
delete's full snapshot brings the object back, a create removes it. Reverting *before*
the entry undoes that entry too. The result is then written through the ORM (set the
changed fields, re-create a deleted object, or delete a created one), so the revert is
audited like any other write.

Secret fields (recorded as `REDACTED`) cannot be restored and keep their current value;
columns maintained by an `onupdate` default (`updated_at`) are left to it. With `fields`,
only those fields of an existing object are written (the others keep their value); an
object that is created again gets all its recorded fields, having no value to keep.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from sqlalchemy import select

from trivium.audit._capture import Model
from trivium.audit._capture import jsonable
from trivium.audit._capture import python_value
from trivium.audit._models import REDACTED
from trivium.audit._models import AuditEntry

if TYPE_CHECKING:
    from sqlalchemy.orm import RelationshipProperty
    from sqlalchemy.orm import Session

__all__ = ["changes_sync", "check_fields", "decode_pk", "revert_sync"]

State = dict[str, Any] | None


def decode_pk(model: Model, text: str) -> tuple[Any, ...]:
    """Return the typed primary key values of `text` (as `encode_pk` wrote it)."""
    raw: list[Any] = [text] if len(model.pk_keys) == 1 else json.loads(text)
    return tuple(
        python_value(model.columns[key], value)
        for key, value in zip(model.pk_keys, raw, strict=True)
    )


def _links(session: Session, obj: Any, prop: RelationshipProperty[Any]) -> list[Any]:
    related = getattr(obj, prop.key)
    keys = []
    for item in related:
        identity = prop.mapper.primary_key_from_instance(item)
        keys.append(identity[0] if len(identity) == 1 else list(identity))
    del session
    return [jsonable(k) for k in keys]


def _state_now(session: Session, model: Model, obj: Any) -> State:
    if obj is None:
        return None
    state = {key: model.value(key, getattr(obj, key)) for key in model.columns}
    for prop in model.links:
        state[prop.key] = _links(session, obj, prop)
    return state


def _undo(state: State, entry: AuditEntry) -> State:
    if entry.action == "create":
        return None
    if entry.action == "delete":
        return dict(entry.before)
    undone = dict(state or {})
    undone.update(entry.before)
    return undone


def _related(session: Session, prop: RelationshipProperty[Any], keys: list[Any]) -> list[Any]:
    target = prop.mapper
    found = []
    for key in keys:
        identity = tuple(key) if isinstance(key, list) else (key,)
        typed = tuple(
            python_value(column, value)  # type: ignore[arg-type]
            for column, value in zip(target.primary_key, identity, strict=True)
        )
        item = session.get(target.class_, typed)
        if item is not None:
            found.append(item)
    return found


def _restorable(model: Model, target: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """The fields of `target` a revert can write and that differ from `now` (key: value)."""
    found: dict[str, Any] = {}
    link_keys = {p.key for p in model.links}
    for key, value in target.items():
        if value == REDACTED or now.get(key) == value:
            continue
        column = model.columns.get(key)
        if column is not None:
            if column.onupdate is None:
                found[key] = value
        elif key in link_keys and isinstance(value, list):
            found[key] = value
    return found


def _apply(
    session: Session,
    model: Model,
    obj: Any,
    target: dict[str, Any],
    fields: frozenset[str] | None = None,
) -> None:
    """Set on `obj` every restorable field of `target` (of `fields`) that differs from now."""
    now = _state_now(session, model, obj) or {}
    for key, value in _restorable(model, target, now).items():
        if fields is not None and key not in fields:
            continue
        column = model.columns.get(key)
        if column is not None:
            setattr(obj, key, python_value(column, value))
            continue
        prop = next(p for p in model.links if p.key == key)
        setattr(obj, key, _related(session, prop, value))


def check_fields(model: Model, fields: Collection[str] | None) -> frozenset[str] | None:
    """Return `fields` as a set after checking they are attributes of the model.

    Raises:
        ValueError: `fields` is a string, or names something the model lacks.
    """
    if fields is None:
        return None
    if isinstance(fields, str):
        raise ValueError(
            f"fields takes a collection of field names, not the string {fields!r}: "
            f"write fields=[{fields!r}]"
        )
    names = frozenset(fields)
    known = set(model.mapper.attrs.keys())
    unknown = sorted(n for n in names if n not in known)
    if unknown:
        raise ValueError(
            f"fields names {unknown} which {model.mapper.class_.__name__} does not have; "
            f"its fields are {sorted(known)}"
        )
    return names


def _target(
    session: Session, model: Model, entry: AuditEntry, to: Literal["after", "before"]
) -> tuple[tuple[Any, ...], Any, State]:
    """Return the object's key, the object now (or `None`) and its state to restore."""
    pk = decode_pk(model, entry.object_pk)
    obj = session.get(model.mapper.class_, pk)
    later = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.model == entry.model,
            AuditEntry.object_pk == entry.object_pk,
            AuditEntry.id > entry.id,
        )
        .order_by(AuditEntry.id.desc())
    ).all()
    state = _state_now(session, model, obj)
    for undone in later:
        state = _undo(state, undone)
    if to == "before":
        state = _undo(state, entry)
    return pk, obj, state


def changes_sync(
    session: Session,
    model: Model,
    entry: AuditEntry,
    to: Literal["after", "before"],
) -> dict[str, Any] | None:
    """Return what `revert_sync` would write: `{field: value}`, or `None` for a delete."""
    _, obj, state = _target(session, model, entry, to)
    if state is None:
        return None
    return _restorable(model, state, _state_now(session, model, obj) or {})


def revert_sync(
    session: Session,
    model: Model,
    entry: AuditEntry,
    to: Literal["after", "before"],
    fields: frozenset[str] | None = None,
) -> Any:
    """Restore the object of `entry` (see the module docstring); return it, or `None` if it is gone."""
    pk, obj, state = _target(session, model, entry, to)
    if state is None:
        if obj is not None:
            session.delete(obj)
            session.flush()
        return None
    if obj is None:
        obj = model.mapper.class_()
        for key, value in zip(model.pk_keys, pk, strict=True):
            setattr(obj, key, value)
        _apply(session, model, obj, state)  # nothing to keep: every recorded field
        session.add(obj)
    else:
        _apply(session, model, obj, state, fields)
    session.flush()
    return obj
