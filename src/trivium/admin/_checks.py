"""Start-up checks of `ModelAdmin` options, and the derived lists the pages use.

Every name in an option must exist on the model (or, where Django allows it, on the
`ModelAdmin`); otherwise the app does not start: `ConfigurationError` with the code
`admin-option`, naming the option, the bad name and the names that would work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from trivium.admin._filters import ListFilter
from trivium.admin._filters import field_filter
from trivium.admin._inlines import check_inline
from trivium.admin._meta import form_ready
from trivium.admin._meta import verbose
from trivium.admin._options import ModelAdmin
from trivium.admin._query import check_search_fields
from trivium.admin._spelling import check_option_names
from trivium.db import QueryError
from trivium.errors import ConfigurationError

if TYPE_CHECKING:
    from trivium.admin._meta import ModelMeta

__all__ = ["SEQUENCE_OPTIONS", "DisplayColumn", "check_admin"]

SEQUENCE_OPTIONS = (
    "actions",
    "autocomplete_fields",
    "exclude",
    "fields",
    "inlines",
    "list_display",
    "list_display_links",
    "list_editable",
    "list_filter",
    "ordering",
    "password_fields",
    "readonly_fields",
    "search_fields",
)
"""The `ModelAdmin` options that hold a sequence of names (never a bare string)."""


@dataclasses.dataclass(frozen=True, slots=True)
class DisplayColumn:
    """One column of the change list."""

    key: str
    """The name in `list_display` (or the callable's name)."""
    header: str
    getter: Callable[[Any], Any]
    sort: str | None
    """The column the header sorts by, if any."""
    relation_path: str | None
    """The relationship path to load for it (`author`, `author__company`)."""
    boolean: bool
    link: bool


def _fail(model_admin: ModelAdmin, option: str, message: str) -> ConfigurationError:
    return ConfigurationError(
        f"{type(model_admin).__name__}.{option} ({model_admin.model.__name__}): {message}",
        "admin-option",
    )


def _column_name(meta: ModelMeta, name: str) -> str | None:
    """Return the column `name` stands for: a column, or a many-to-one relation's key."""
    if name in meta.columns:
        return name
    relation = meta.relations.get(name)
    if relation is not None and relation.kind == "many-to-one" and len(relation.local_columns) == 1:
        return relation.local_columns[0]
    return None


def _path_getter(path: list[str]) -> Callable[[Any], Any]:
    def get(obj: Any) -> Any:
        for part in path:
            if obj is None:
                return None
            obj = getattr(obj, part)
        return obj

    return get


def _display_column(model_admin: ModelAdmin, entry: Any) -> DisplayColumn:
    meta = model_admin.meta
    if callable(entry):
        return DisplayColumn(
            entry.__name__,
            getattr(entry, "short_description", verbose(entry.__name__)),
            entry,
            getattr(entry, "admin_order_field", None),
            None,
            bool(getattr(entry, "boolean", False)),
            False,
        )
    if entry == "__str__":
        return DisplayColumn(
            entry, model_admin.name, model_admin.label_of, None, None, False, False
        )
    if entry in meta.columns:
        info = meta.columns[entry]
        header = verbose(info.relation or entry) if info.target is not None else verbose(entry)
        getter = _path_getter([info.relation]) if info.relation else _path_getter([entry])
        path = info.relation
        return DisplayColumn(entry, header, getter, entry, path, info.is_bool, False)
    if entry in meta.relations:
        return DisplayColumn(
            entry, verbose(entry), _path_getter([entry]), None, entry, False, False
        )
    if "__" in entry:
        return _related_column(model_admin, entry)
    method = getattr(model_admin, entry, None)
    if callable(method):
        column = _display_column(model_admin, method)
        return dataclasses.replace(column, key=entry)
    if hasattr(model_admin.model, entry):
        return DisplayColumn(
            entry, verbose(entry), _attribute_getter(entry), None, None, False, False
        )
    raise _fail(
        model_admin,
        "list_display",
        f"{entry!r} is not a field, relation path, ModelAdmin method or attribute of the model",
    )


def _attribute_getter(name: str) -> Callable[[Any], Any]:
    def get(obj: Any) -> Any:
        value = getattr(obj, name)
        return value() if callable(value) else value

    return get


def _related_column(model_admin: ModelAdmin, entry: str) -> DisplayColumn:
    parts = entry.split("__")
    current = model_admin.model
    for part in parts[:-1]:
        relation = model_admin.site.meta_of(current).relations.get(part)
        if relation is None or relation.kind != "many-to-one":
            raise _fail(
                model_admin,
                "list_display",
                f"{entry!r}: {current.__name__}.{part} is not a many-to-one relationship",
            )
        current = relation.target
    last = parts[-1]
    is_column = last in model_admin.site.meta_of(current).columns
    if not is_column and not hasattr(current, last):
        raise _fail(model_admin, "list_display", f"{entry!r}: {current.__name__} has no {last!r}")
    header = " ".join(verbose(part) for part in parts)
    path = "__".join(parts[:-1])
    # A related column sorts the list (by a correlated subquery: no join multiplies rows).
    sort = entry if is_column else None
    return DisplayColumn(entry, header, _path_getter(parts), sort, path, False, False)


def _check_columns(
    model_admin: ModelAdmin, option: str, names: Any, *, extra: bool = False
) -> list[str]:
    meta = model_admin.meta
    result = []
    for name in names:
        column = _column_name(meta, name)
        if (
            column is None
            and extra
            and (hasattr(model_admin, name) or hasattr(model_admin.model, name))
        ):
            result.append(name)
            continue
        if column is None:
            raise _fail(
                model_admin, option, f"{name!r} is not a column; columns: {', '.join(meta.columns)}"
            )
        result.append(column)
    return result


def _filters(model_admin: ModelAdmin) -> list[ListFilter]:
    result: list[ListFilter] = []
    for entry in model_admin.list_filter:
        if isinstance(entry, type) and issubclass(entry, ListFilter):
            result.append(entry())
            continue
        [name] = _check_columns(model_admin, "list_filter", [entry])
        made = field_filter(model_admin.meta.columns[name])
        if made is None:
            raise _fail(
                model_admin,
                "list_filter",
                f"{entry!r} is not a boolean, choices, enum, date or foreign key field",
            )
        result.append(made)
    return result


def _form_fields(model_admin: ModelAdmin) -> tuple[list[str], list[str]]:
    """Return (editable fields, readonly fields) of the forms, in display order."""
    meta = model_admin.meta
    readonly = _check_columns(
        model_admin, "readonly_fields", model_admin.readonly_fields, extra=True
    )
    exclude = set(_check_columns(model_admin, "exclude", model_admin.exclude))
    if model_admin.fieldsets is not None:
        names = [n for _, opts in model_admin.fieldsets for n in opts.get("fields", ())]
        option = "fieldsets"
    elif model_admin.fields is not None:
        names, option = list(model_admin.fields), "fields"
    else:
        names = [c.name for c in meta.columns.values() if not c.generated and c.name not in exclude]
        names += [n for n in readonly if n not in names]
        option = "fields"
    shown = _check_columns(model_admin, option, names, extra=True)
    editable = [
        n
        for n in shown
        if n in meta.columns
        and n not in readonly
        and n not in exclude
        and not meta.columns[n].generated
        and form_ready(meta.columns[n])
    ]
    shown_readonly = [n for n in shown if n not in editable and n not in exclude]
    return editable, shown_readonly


def check_admin(model_admin: ModelAdmin) -> None:
    """Check `model_admin`'s options and store what the pages derive from them.

    Raises:
        ConfigurationError: an option names something the model lacks (`admin-option`).
    """
    meta = model_admin.meta
    check_option_names(
        type(model_admin), ModelAdmin, SEQUENCE_OPTIONS, f"admin.register({meta.model.__name__})"
    )
    if not isinstance(model_admin.list_per_page, int) or not 1 <= model_admin.list_per_page <= 1000:
        raise _fail(model_admin, "list_per_page", "must be an int from 1 to 1000")
    columns = [_display_column(model_admin, entry) for entry in model_admin.list_display]
    links = model_admin.list_display_links
    link_keys = set(links) if links is not None else {columns[0].key} if columns else set()
    unknown = link_keys - {c.key for c in columns}
    if unknown:
        raise _fail(model_admin, "list_display_links", f"{sorted(unknown)} are not in list_display")
    model_admin.columns = [dataclasses.replace(c, link=c.key in link_keys) for c in columns]
    model_admin.filters = _filters(model_admin)
    try:
        check_search_fields(model_admin.model, model_admin.search_fields)
    except QueryError as exc:
        raise _fail(model_admin, "search_fields", str(exc)) from None
    for name in model_admin.ordering:
        if name.lstrip("-") not in meta.columns:
            raise _fail(model_admin, "ordering", f"{name!r} is not a column")
    model_admin.editable_fields, model_admin.readonly = _form_fields(model_admin)
    _check_columns(model_admin, "password_fields", model_admin.passwords)
    model_admin.autocomplete = set(
        _check_columns(model_admin, "autocomplete_fields", model_admin.autocomplete_fields)
    )
    for name in model_admin.autocomplete:
        _check_autocomplete(model_admin, name)
    if model_admin.date_hierarchy is not None:
        info = meta.columns.get(model_admin.date_hierarchy)
        if info is None or not info.is_date:
            raise _fail(
                model_admin,
                "date_hierarchy",
                f"{model_admin.date_hierarchy!r} is not a date column",
            )
    editable = set(_check_columns(model_admin, "list_editable", model_admin.list_editable))
    shown = {c.key for c in model_admin.columns}
    for name in editable:
        if name not in shown or name in link_keys or name not in model_admin.editable_fields:
            raise _fail(
                model_admin,
                "list_editable",
                f"{name!r} must be an editable column of list_display that is not a link",
            )
        info = meta.columns[name]
        if info.is_json or (info.is_bool and info.nullable):
            raise _fail(
                model_admin,
                "list_editable",
                f"{name!r} is a JSON or nullable boolean column, which one list cell cannot "
                "edit; edit it on the change page (leave it out of list_editable)",
            )
    model_admin.action_list = _actions(model_admin)
    model_admin.inline_sets = [check_inline(model_admin, item) for item in model_admin.inlines]


def _check_autocomplete(model_admin: ModelAdmin, name: str) -> None:
    target = model_admin.meta.columns[name].target
    if target is None:
        raise _fail(model_admin, "autocomplete_fields", f"{name!r} is not a foreign key")
    target_admin = model_admin.site.admin_for(target)
    if target_admin is None or not target_admin.search_fields:
        raise _fail(
            model_admin,
            "autocomplete_fields",
            f"{name!r} points at {target.__name__}, which must be registered with the "
            "admin with search_fields",
        )


def _actions(model_admin: ModelAdmin) -> dict[str, Callable[..., Any]]:
    from trivium.admin._actions import delete_selected

    found: dict[str, Callable[..., Any]] = {"delete_selected": delete_selected}
    for entry in model_admin.actions:
        function = getattr(type(model_admin), entry, None) if isinstance(entry, str) else entry
        if not callable(function):
            raise _fail(model_admin, "actions", f"{entry!r} is not a function or ModelAdmin method")
        found[function.__name__] = function
    return found
