"""Put an object back into the state an audit entry recorded.

The state *after* an entry is rebuilt from the object as it is now, by undoing the
entries that came after it, newest first: an update's `before` values are put back, a
delete's full snapshot brings the object back, a create removes it. Reverting *before*
the entry undoes that entry too. The result is then written through the ORM (set the
changed fields, re-create a deleted object, or delete a created one), so the revert is
audited like any other write.

A key can hold several objects in turn (SQLite reuses the highest deleted integer id,
natural keys come back): a `delete` entry ends one *life* of the key and what follows
belongs to another object, unless it is the `create` of reverting that delete. `life_bounds` finds the life that `Audit.history` shows and
a revert may use: the current one while an object holds the key, else the last one (up
to its delete, so the delete can be undone). Entries of earlier lives are never undone
into the state of a later one, and reverting them is refused.

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

__all__ = ["changes_sync", "check_fields", "decode_pk", "life_bounds", "revert_sync"]

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


def _restores(model: Model, deleted: AuditEntry, created: AuditEntry) -> bool:
    """Whether `created` puts back the values `deleted` recorded (a revert of the delete).

    Secret values and `onupdate` columns (a revert cannot restore them) are not compared.
    """
    if created.action != "create":
        return False
    after = created.after
    for key, value in deleted.before.items():
        column = model.columns.get(key)
        if column is None or column.onupdate is not None or value == REDACTED:
            continue
        if after.get(key) != value:
            return False
    return True


def life_bounds(
    session: Session, model: Model, object_pk: str, exists: bool | None = None
) -> tuple[int | None, int | None]:
    """Return `(low, high)`: the entries `low < id <= high` of the key's shown life.

    `None` is no bound. A `delete` entry ends a life, unless the entry after it is a
    `create` that puts back the values it recorded (the delete was reverted). While an
    object holds the key (`exists`; `None`: look it up) its life is the entries after
    the last such `delete`; when none does, the last life: up to and including that
    delete (or after it, when entries follow it).
    """
    key = (AuditEntry.model == model.table, AuditEntry.object_pk == object_pk)
    deletes = session.scalars(
        select(AuditEntry).where(*key, AuditEntry.action == "delete").order_by(AuditEntry.id.desc())
    ).all()
    ends: list[int] = []
    followed = False  # whether entries follow the last end
    for deleted in deletes:
        following = session.scalars(
            select(AuditEntry).where(*key, AuditEntry.id > deleted.id).order_by(AuditEntry.id)
        ).first()
        if following is not None and _restores(model, deleted, following):
            continue
        followed = followed or (not ends and following is not None)
        ends.append(deleted.id)
        if len(ends) == 2:
            break
    if not ends:
        return None, None  # one life: no need to look the object up
    if exists is None:
        exists = session.get(model.mapper.class_, decode_pk(model, object_pk)) is not None
    if exists or followed:
        return ends[0], None
    return (ends[1] if len(ends) > 1 else None), ends[0]


def _check_life(model: Model, entry: AuditEntry, obj: Any, session: Session) -> None:
    """Refuse `entry` when it is not of the life of its key that a revert may use.

    Raises:
        ValueError: `entry` is of an earlier object that had the key.
    """
    low, high = life_bounds(session, model, entry.object_pk, obj is not None)
    if (low is None or entry.id > low) and (high is None or entry.id <= high):
        return
    name = model.mapper.class_.__name__
    now = (
        f"the {name} that has this key now is another object: reverting the entry would "
        "overwrite it"
        if obj is not None
        else "the key was used again since"
    )
    raise ValueError(
        f"audit entry {entry.id} is of an earlier {name} with the key {entry.object_pk}, "
        f"deleted since (the key's last delete is entry {high or low}); {now}. Revert "
        "only the entries history() returns"
    )


def _target(
    session: Session, model: Model, entry: AuditEntry, to: Literal["after", "before"]
) -> tuple[tuple[Any, ...], Any, State]:
    """Return the object's key, the object now (or `None`) and its state to restore.

    Raises:
        ValueError: `entry` is of an earlier life of its key, or the object is gone
            with no recorded delete to rebuild it from.
    """
    pk = decode_pk(model, entry.object_pk)
    obj = session.get(model.mapper.class_, pk)
    _check_life(model, entry, obj, session)
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
    for undone in (*later, entry) if to == "before" else later:
        if state is None and undone.action == "update":
            raise ValueError(
                f"the {model.mapper.class_.__name__} with the key {entry.object_pk} is gone "
                "but its deletion was not recorded (deleted outside the audited sessions): "
                "its state cannot be rebuilt from the trail"
            )
        state = _undo(state, undone)
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
