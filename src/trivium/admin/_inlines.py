"""Inlines: related rows edited on the parent's page, as a table or stacked.

`ModelAdmin.inlines = (CommentInline,)` where `CommentInline(TabularInline)` names the
parent's relationship (`relation = "comments"`):

- **one-to-many**: each row edits a child's fields (validated with the child's form
  schema); a row with its key changes that child, an empty extra row is skipped, a
  filled one adds a child, "Delete" removes one;
- **many-to-many**: each row is a link, holding the related object's key; "Delete"
  unlinks it, a new key links another object.

The page posts `<relation>-TOTAL` and `<relation>-<n>-<field>` inputs. `extra` empty
rows are drawn, so adding works without JavaScript (one save at a time); the script adds
rows on the page. Every row is validated before anything is written, the writes run in
the parent's savepoint, and the user needs the inline model's add/change/delete
permission (or, for links, permission to change the parent).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from pydantic import TypeAdapter
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import with_parent

from trivium.admin._meta import form_ready
from trivium.admin._meta import form_schema
from trivium.admin._meta import json_text
from trivium.admin._meta import model_meta
from trivium.admin._meta import verbose
from trivium.admin._spelling import check_option_names
from trivium.auth import model_permissions
from trivium.errors import ConfigurationError
from trivium.forms import bind

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.admin._meta import ModelMeta
    from trivium.admin._options import ModelAdmin
    from trivium.http import Request

__all__ = ["InlineModelAdmin", "InlineSet", "StackedInline", "TabularInline", "check_inline"]

MAX_ROWS = 200
"""Related rows an inline shows and accepts at most."""


class InlineModelAdmin:
    """Related rows on the parent's page; use `TabularInline` or `StackedInline`."""

    relation: ClassVar[str] = ""
    """The parent's one-to-many or many-to-many relationship."""
    fields: ClassVar[Sequence[str] | None] = None
    """The child's fields in each row (one-to-many; default: every editable column)."""
    extra: ClassVar[int] = 1
    """Empty rows drawn for new related objects."""
    max_num: ClassVar[int | None] = None
    """The most rows the relation may have after a save."""
    can_delete: ClassVar[bool] = True
    """Draw a "Delete" box on each row."""
    style: ClassVar[str] = "tabular"
    """`"tabular"` (a table) or `"stacked"` (one fieldset per row)."""
    verbose_name: ClassVar[str | None] = None
    """The heading (default: from the relation)."""


class TabularInline(InlineModelAdmin):
    """Related rows drawn as a table, one row per object."""

    style = "tabular"


class StackedInline(InlineModelAdmin):
    """Related rows drawn one below the other, each as its own fieldset."""

    style = "stacked"


@dataclasses.dataclass
class InlineSet:
    """One inline of a `ModelAdmin`, checked: what the pages need."""

    options: type[InlineModelAdmin]
    relation: str
    kind: str
    target: type[Any]
    meta: ModelMeta
    fields: list[str]
    fk: str | None
    codenames: dict[str, str]

    @property
    def title(self) -> str:
        """The heading of the inline."""
        return self.options.verbose_name or verbose(self.relation)

    def schema(self) -> Any:
        """The form schema of one row (one-to-many)."""
        return form_schema(self.meta, self.fields, adding=True)


def check_inline(model_admin: ModelAdmin, options: Any) -> InlineSet:
    """Check one entry of `inlines` and return its `InlineSet`.

    Raises:
        ConfigurationError: not an `InlineModelAdmin`, or its relation is not a
            one-to-many or many-to-many relationship of the model (`admin-option`).
    """
    name = f"{type(model_admin).__name__}.inlines ({model_admin.model.__name__})"
    if not (isinstance(options, type) and issubclass(options, InlineModelAdmin)):
        raise ConfigurationError(f"{name}: {options!r} is not an InlineModelAdmin", "admin-option")
    check_option_names(options, InlineModelAdmin, ("fields",), name)
    relation = model_admin.meta.relations.get(options.relation)
    if relation is None or relation.kind == "many-to-one":
        raise ConfigurationError(
            f"{name}: {options.__name__}.relation {options.relation!r} is not a one-to-many or "
            f"many-to-many relationship of {model_admin.model.__name__}",
            "admin-option",
        )
    meta = model_meta(relation.target)
    fk = None
    fields: list[str] = []
    if relation.kind == "one-to-many":
        prop = getattr(model_admin.model, relation.name).property
        fk = next(meta.model.__mapper__.get_property_by_column(c).key for c in prop.remote_side)
        wanted = options.fields or [
            c.name
            for c in meta.columns.values()
            if not c.generated and c.name != fk and form_ready(c)
        ]
        for field in wanted:
            info = meta.columns.get(field)
            if info is None or info.generated or field == fk or not form_ready(info):
                raise ConfigurationError(
                    f"{name}: {options.__name__}.fields names {field!r}, not an editable column "
                    f"of {meta.model.__name__}",
                    "admin-option",
                )
            fields.append(field)
        _check_hidden_required(name, options, meta, fields, fk)
    codenames = {
        codename.split(".", 1)[1].split("_", 1)[0]: codename
        for codename, _ in model_permissions(relation.target)
    }
    return InlineSet(
        options, relation.name, relation.kind, relation.target, meta, fields, fk, codenames
    )


def _check_hidden_required(
    name: str, options: type[InlineModelAdmin], meta: ModelMeta, fields: list[str], fk: str
) -> None:
    """Refuse `fields` that leave out a column a new row needs (not nullable, no default)."""
    for info in meta.columns.values():
        hidden = info.name not in fields and info.name != fk
        if hidden and not (info.generated or info.nullable or info.has_default):
            raise ConfigurationError(
                f"{name}: {options.__name__}.fields leaves out {info.name!r}, which "
                f"{meta.model.__name__} requires (not nullable, no default), so no row could "
                f"be added; add it to fields or give the column a default",
                "admin-option",
            )


async def allowed(model_admin: ModelAdmin, inline: InlineSet, request: Request, kind: str) -> bool:
    """Whether the user may `kind` (add/change/delete) rows of `inline`."""
    if inline.kind == "many-to-many":
        return await model_admin.permission(request, "change")
    return await model_admin.site.user_has_perm(request, inline.codenames[kind])


async def existing_rows(
    session: AsyncSession, obj: Any, model_admin: ModelAdmin, inline: InlineSet
) -> list[Any]:
    """The related objects of `obj` shown by `inline` (at most `MAX_ROWS`, by key)."""
    if obj is None:
        return []
    relation = getattr(model_admin.model, inline.relation)
    pk = getattr(inline.target, inline.meta.pk.name)
    query = select(inline.target).where(with_parent(obj, relation)).order_by(pk).limit(MAX_ROWS)
    return list((await session.scalars(query)).all())


@dataclasses.dataclass
class Posted:
    """The rows of one inline as posted, validated."""

    inline: InlineSet
    rows: list[dict[str, Any]]
    errors: list[str]
    changes: list[tuple[str, Any, Any]]
    """`(action, key or None, values)`: `"add"`, `"change"`, `"delete"`, `"link"`, `"unlink"`."""


def _row_data(data: Any, prefix: str, fields: list[str]) -> dict[str, str]:
    return {f: str(v) for f in fields for v in data.getlist(f"{prefix}-{f}")[-1:]}


async def read_posted(  # noqa: PLR0913 - the inline, the request and what was posted
    model_admin: ModelAdmin,
    inline: InlineSet,
    request: Request,
    session: AsyncSession,
    data: Any,
    obj: Any,
    *,
    as_new: bool = False,
) -> Posted:
    """Validate the posted rows of `inline` (no writes).

    With `as_new` ("save as new"), the rows shown for the original object are posted for
    a copy: one-to-many rows become new rows of the copy, links link the copy too, and
    rows marked for deletion are left out.
    """
    name = inline.relation
    total_raw = str(data.get(f"{name}-TOTAL", "0"))
    total = min(int(total_raw), MAX_ROWS) if total_raw.isdigit() else 0
    key_type = TypeAdapter(inline.meta.pk.value_type)
    current = {
        str(getattr(o, inline.meta.pk.name)): o
        for o in await existing_rows(session, obj, model_admin, inline)
    }
    posted = Posted(inline, [], [], [])
    may_change = await allowed(model_admin, inline, request, "change")
    for index in range(total):
        prefix = f"{name}-{index}"
        key = str(data.get(f"{prefix}-id", "")).strip()
        # `can_delete = False` draws no box; a box posted anyway is ignored.
        delete = inline.options.can_delete and data.get(f"{prefix}-DELETE") in ("on", "1", "true")
        if as_new and delete:
            continue  # not copied
        if as_new and inline.kind != "many-to-many":
            key = ""  # the original's row: a new row of the copy
        if inline.kind == "many-to-many":
            await _link_row(posted, inline, key_type, current, key, delete, index)
            continue
        row: dict[str, Any] = {
            "index": index,
            "key": key,
            "values": _row_data(data, prefix, inline.fields),
            "errors": {},
            "delete": delete,
        }
        posted.rows.append(row)
        _one_to_many_row(posted, inline, current, row, may_change=may_change)
    if inline.kind == "many-to-many":
        await _check_links(session, inline, posted)
    await _check_permissions(model_admin, inline, request, posted, len(current))
    return posted


def _one_to_many_row(
    posted: Posted,
    inline: InlineSet,
    current: dict[str, Any],
    row: dict[str, Any],
    *,
    may_change: bool,
) -> None:
    """Validate one posted row of a one-to-many inline and note the change it makes."""
    key, values, index = row["key"], row["values"], row["index"]
    if key and key not in current:
        posted.errors.append(
            f"Row {index + 1} of {inline.title}: that object does not belong here."
        )
        return
    if row["delete"]:
        if key:
            posted.changes.append(("delete", current[key], None))
        return
    if not key and _untouched(inline, values):
        return  # an empty extra row (blank, or the defaults it was drawn with)
    if key and not values and not may_change:
        return  # a row drawn read-only: nothing of it is posted, nothing changes
    form = bind(inline.schema(), values)
    if not form.is_valid:
        row["errors"] = {f: list(m) for f, m in form.errors.items()}
        posted.errors.append(f"Row {index + 1} of {inline.title} has errors.")
        return
    if key and _unchanged(inline, current[key], form.data):
        return  # posted back as stored: not a change (no change permission needed)
    posted.changes.append(("change" if key else "add", current.get(key), form.data))


def _unchanged(inline: InlineSet, child: Any, data: Any) -> bool:
    """Whether the validated row holds the values `child` has (what a save would keep)."""
    for field in inline.fields:
        value = getattr(data, field)
        if value is None and not inline.meta.columns[field].nullable:
            continue  # left empty: the stored value stays
        if value != getattr(child, field):
            return False
    return True


async def _check_links(session: AsyncSession, inline: InlineSet, posted: Posted) -> None:
    keys = [key for action, key, _ in posted.changes if action == "link"]
    if not keys:
        return
    pk = getattr(inline.target, inline.meta.pk.name)
    found = set((await session.scalars(select(pk).where(pk.in_(keys)))).all())
    for key in keys:
        if key not in found:
            posted.errors.append(
                f"{inline.title}: no {verbose(inline.target.__name__)} has the key {key}."
            )


async def _link_row(  # noqa: PLR0913 - one row's parts
    posted: Posted,
    inline: InlineSet,
    key_type: TypeAdapter[Any],
    current: dict[str, Any],
    key: str,
    delete: bool,
    index: int,
) -> None:
    posted.rows.append({"index": index, "key": key, "values": {}, "errors": {}, "delete": delete})
    if not key:
        return
    if key in current:
        if delete:
            posted.changes.append(("unlink", current[key], None))
        return
    if delete:
        return  # a new link removed before saving
    try:
        posted.changes.append(("link", key_type.validate_python(key), None))
    except ValidationError:
        posted.errors.append(f"Row {index + 1} of {inline.title}: {key!r} is not a key.")


async def _check_permissions(
    model_admin: ModelAdmin, inline: InlineSet, request: Request, posted: Posted, existing: int
) -> None:
    needed = {
        "add": "add",
        "change": "change",
        "delete": "delete",
        "link": "add",
        "unlink": "delete",
    }
    for kind in sorted({needed[action] for action, _, _ in posted.changes}):
        if not await allowed(model_admin, inline, request, kind):
            posted.errors.append(f"You may not {kind} {inline.title}.")
    limit = inline.options.max_num
    if limit is not None:
        added = sum(1 for a, _, _ in posted.changes if a in ("add", "link"))
        removed = sum(1 for a, _, _ in posted.changes if a in ("delete", "unlink"))
        if existing + added - removed > limit:
            posted.errors.append(f"{inline.title}: at most {limit} rows.")


async def apply_posted(session: AsyncSession, obj: Any, posted: Posted) -> None:
    """Write the validated rows (inside the parent's savepoint, after it is flushed)."""
    inline = posted.inline
    if inline.kind == "many-to-many":
        collection = await getattr(obj.awaitable_attrs, inline.relation)
        keys = [key for action, key, _ in posted.changes if action == "link"]
        pk = getattr(inline.target, inline.meta.pk.name)
        found = (
            {
                getattr(o, inline.meta.pk.name): o
                for o in await session.scalars(select(inline.target).where(pk.in_(keys)))
            }
            if keys
            else {}
        )
        for action, item, _ in posted.changes:
            if action == "unlink" and item in collection:
                collection.remove(item)
            elif action == "link" and item in found and found[item] not in collection:
                collection.append(found[item])
        return
    parent_key = getattr(obj, model_admin_pk(obj))
    for action, child, values in posted.changes:
        if action == "delete":
            await session.delete(child)
            continue
        target = child if child is not None else inline.target()
        for field in inline.fields:
            value = getattr(values, field)
            if value is None and not inline.meta.columns[field].nullable:
                continue
            setattr(target, field, value)
        if inline.fk is not None:
            setattr(target, inline.fk, parent_key)
        session.add(target)


def model_admin_pk(obj: Any) -> str:
    """The primary key attribute of `obj`'s model."""
    return model_meta(type(obj)).pk.name


def _stored(inline: InlineSet, child: Any) -> dict[str, Any]:
    """Return the values a row shows for `child` (a JSON column as JSON text)."""
    return {
        f: json_text(getattr(child, f)) if inline.meta.columns[f].is_json else getattr(child, f)
        for f in inline.fields
    }


def _cell(
    inline: InlineSet, prefix: str, field: str, value: Any, errors: list[str]
) -> dict[str, Any]:
    info = inline.meta.columns[field]
    three_way = info.is_bool and info.nullable  # unknown, yes, no: as the change form
    kind = "checkbox" if info.is_bool and not three_way else "select" if info.choices else "text"
    choices = [(str(getattr(v, "value", v)), label) for v, label in info.choices]
    if three_way:
        kind, choices = "select", [("True", "Yes"), ("False", "No")]
    shown = getattr(value, "value", value)
    text = "" if shown is None else str(shown)
    if kind == "checkbox":
        text = "true" if value in (True, "true", "on", "1") else ""
    return {
        "name": f"{prefix}-{field}",
        "id": f"id_{prefix}-{field}",
        "label": verbose(field),
        "kind": kind,
        "value": text,
        "choices": choices,
        "errors": errors,
        "required": not info.nullable and not info.has_default and not info.is_bool,
    }


def _defaults(inline: InlineSet) -> dict[str, Any]:
    """The values an empty row shows: the columns' plain defaults, as the add form does."""
    values = {}
    for field in inline.fields:
        default = inline.meta.columns[field].default
        if default is not None and not callable(default):
            values[field] = json_text(default) if inline.meta.columns[field].is_json else default
    return values


def _untouched(inline: InlineSet, values: dict[str, str]) -> bool:
    """Whether a new row was posted blank or as drawn (each value empty or its default)."""
    drawn = {f: _cell(inline, "", f, v, [])["value"] for f, v in _defaults(inline).items()}
    return all(v.strip() in ("", drawn.get(f, "")) for f, v in values.items())


def _row(  # noqa: PLR0913 - one row's parts
    inline: InlineSet,
    index: int | str,
    key: str,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    label: str,
    *,
    readonly: bool = False,
) -> dict[str, Any]:
    prefix = f"{inline.relation}-{index}"
    cells = [_cell(inline, prefix, f, values.get(f), errors.get(f, [])) for f in inline.fields]
    return {"prefix": prefix, "key": key, "label": label, "cells": cells, "readonly": readonly}


async def inline_permissions(
    model_admin: ModelAdmin, inline: InlineSet, request: Request
) -> frozenset[str]:
    """The kinds (`add`, `change`, `delete`) of rows of `inline` the user may write."""
    kinds = ("add", "change", "delete")
    return frozenset([k for k in kinds if await allowed(model_admin, inline, request, k)])


async def inline_context(  # noqa: PLR0913 - the inline, the page's parts and permissions
    model_admin: ModelAdmin,
    inline: InlineSet,
    session: AsyncSession,
    obj: Any,
    posted: Posted | None,
    permissions: frozenset[str] = frozenset(("add", "change", "delete")),
) -> dict[str, Any]:
    """What the page draws for one inline: its rows, an empty row template, its totals.

    Rows the user may not change are drawn read-only (nothing of them is posted), the
    "Delete" boxes need the delete permission and the empty rows the add permission.
    """
    target_admin = model_admin.site.admin_for(inline.target)
    name_of = target_admin.label_of if target_admin is not None else str
    pk = inline.meta.pk.name
    existing = {
        str(getattr(o, pk)): o for o in await existing_rows(session, obj, model_admin, inline)
    }
    locked = "change" not in permissions and inline.kind != "many-to-many"
    rows: list[dict[str, Any]] = []
    if posted is not None:
        for row in posted.rows:
            child = existing.get(row["key"])
            readonly = locked and child is not None
            values = _stored(inline, child) if readonly else row["values"]
            label = name_of(child) if child is not None else ""
            rows.append(
                _row(
                    inline,
                    row["index"],
                    row["key"],
                    values,
                    row["errors"],
                    label,
                    readonly=readonly,
                )
            )
    else:
        for index, (key, child) in enumerate(existing.items()):
            values = _stored(inline, child)
            rows.append(_row(inline, index, key, values, {}, name_of(child), readonly=locked))
        extra = max(inline.options.extra, 0) if "add" in permissions else 0
        blank = _defaults(inline)
        rows += [_row(inline, len(rows) + n, "", blank, {}, "") for n in range(extra)]
    return {
        "inline": inline,
        "style": inline.options.style,
        "title": inline.title,
        "link": inline.kind == "many-to-many",
        "rows": rows,
        "empty": _row(inline, "__prefix__", "", _defaults(inline), {}, ""),
        "fields": [verbose(f) for f in inline.fields],
        "can_delete": inline.options.can_delete and "delete" in permissions,
        "can_add": "add" in permissions,
        "errors": posted.errors if posted is not None else [],
    }
