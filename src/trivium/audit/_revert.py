"""Put an object back into the state an audit entry recorded.

The state *after* an entry is rebuilt from the object as it is now, by undoing the
entries that came after it, newest first: an update's `before` values are put back, a
delete's full snapshot brings the object back, a create removes it. Reverting *before*
the entry undoes that entry too. The result is then written through the ORM (set the
changed fields, re-create a deleted object, or delete a created one), so the revert is
audited like any other write.

Secret fields (recorded as `REDACTED`) cannot be restored and keep their current value;
columns maintained by an `onupdate` default (`updated_at`) are left to it.
"""

from __future__ import annotations

import json
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

__all__ = ["decode_pk", "revert_sync"]

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


def _apply(session: Session, model: Model, obj: Any, target: dict[str, Any]) -> None:
    """Set on `obj` every restorable field of `target` that differs from its value now."""
    now = _state_now(session, model, obj) or {}
    for key, value in target.items():
        if value == REDACTED or now.get(key) == value:
            continue
        column = model.columns.get(key)
        if column is not None:
            if column.onupdate is None:
                setattr(obj, key, python_value(column, value))
            continue
        prop = next((p for p in model.links if p.key == key), None)
        if prop is not None and isinstance(value, list):
            setattr(obj, key, _related(session, prop, value))


def revert_sync(
    session: Session,
    model: Model,
    entry: AuditEntry,
    to: Literal["after", "before"],
) -> Any:
    """Restore the object of `entry` (see the module docstring); return it, or `None` if it is gone."""
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
    if state is None:
        if obj is not None:
            session.delete(obj)
            session.flush()
        return None
    if obj is None:
        obj = model.mapper.class_()
        for key, value in zip(model.pk_keys, pk, strict=True):
            setattr(obj, key, value)
        _apply(session, model, obj, state)
        session.add(obj)
    else:
        _apply(session, model, obj, state)
    session.flush()
    return obj
