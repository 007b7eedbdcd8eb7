"""`crud_router`'s start-up checks: its options, schemas and primary key, done once.

Everything here runs when `crud_router(...)` is called, so a misspelt option, a string
given for a list of names or a composite key stops the app at start-up with one line.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import inspect as sa_inspect

from trivium.db._schemas import hidden_required
from trivium.db._schemas import model_columns
from trivium.errors import ConfigurationError

__all__ = [
    "check_options",
    "check_schema",
    "filled_by_row_filter",
    "model_attributes",
    "primary_key",
]


_ATTRIBUTES: dict[type[Any], tuple[str, ...]] = {}


def model_attributes(model: type[Any]) -> tuple[str, ...]:
    """Return the column and relationship names of `model` (looked up once per model)."""
    found = _ATTRIBUTES.get(model)
    if found is None:
        mapper = sa_inspect(model)
        found = _ATTRIBUTES[model] = (*mapper.column_attrs.keys(), *mapper.relationships.keys())
    return found


def primary_key(model: type[Any]) -> tuple[str, Any]:
    """Return the name and the validated type of `model`'s one primary key column."""
    mapper = sa_inspect(model)
    if len(mapper.primary_key) != 1:
        raise ConfigurationError(
            f"crud_router({model.__name__}): the model has a composite primary key; "
            "CRUD routers serve models with a single-column primary key",
            "crud-composite-pk",
        )
    key = mapper.get_property_by_column(mapper.primary_key[0]).key
    # An out-of-range key is a 422 rather than a driver error on PostgreSQL and MySQL.
    return key, model_columns(model)[key].bounded()


def check_schema(model: type[Any], schema: type[BaseModel] | None, option: str) -> None:
    """Refuse a schema option with fields that are not attributes of `model`."""
    if schema is None:
        return
    attributes = set(sa_inspect(model).attrs.keys())
    unknown = sorted(set(schema.model_fields) - attributes)
    if unknown:
        raise ConfigurationError(
            f"crud_router({model.__name__}): {option} {schema.__name__} has fields "
            f"{unknown} that are not attributes of {model.__name__}",
            "crud-schema-field",
        )


_NAME_LISTS = (
    "actions",
    "exclude",
    "read_only",
    "filters",
    "ordering",
    "default_ordering",
    "search",
    "tags",
)
"""Options taking a collection of names, where a lone string is a mistake."""


def check_options(
    model: type[Any], options: Mapping[str, Any], known: frozenset[str], actions: Sequence[str]
) -> None:
    """Refuse unknown options, a string given for a list of names, and unknown actions."""
    given = sorted(set(options) - known)
    if given:
        raise TypeError(
            f"crud_router() got unknown options {given}; it takes: {', '.join(sorted(known))}"
        )
    for option in _NAME_LISTS:
        value = options.get(option)
        if isinstance(value, str | bytes):
            # A string is a collection of characters: `exclude="pw"` would exclude 'p', 'w'.
            raise ConfigurationError(
                f"crud_router({model.__name__}): {option}={value!r} must be a list of "
                f"names, not a string; write {option}=[{value!r}]",
                "crud-option-type",
            )
    unknown = sorted(set(options.get("actions", actions)) - set(actions))
    if unknown:
        raise ConfigurationError(
            f"crud_router({model.__name__}): unknown actions {unknown}; use {list(actions)}",
            "crud-unknown-action",
        )


def filled_by_row_filter(
    model: type[Any], options: Mapping[str, Any], actions: Collection[str]
) -> tuple[str, ...]:
    """Return the hidden columns a create needs from the `row_filter` (checked per create)."""
    if options.get("row_filter") is None or options.get("create_schema") is not None:
        return ()
    if "create" not in actions:
        return ()
    exclude, read_only = options.get("exclude", ()), options.get("read_only", ())
    return tuple(hidden_required(model, exclude, read_only))
