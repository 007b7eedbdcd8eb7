"""Compile a handler's parameters into the one pydantic validator its `Plan` calls.

The validated type is a `TypedDict` of sections (`path`, `query`, `header`, `cookie`,
`body`), each a `TypedDict` of the parameters read from it, keyed by `FieldSpec.key`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from typing import Any
from typing import NotRequired
from typing import Required

from pydantic import Field
from pydantic import TypeAdapter
from typing_extensions import TypedDict

from trivium.params._analysis import FieldSpec

__all__ = ["compile_adapter", "core_validate", "field_type", "params_type"]


def field_type(spec: FieldSpec) -> Any:
    """Return the type `spec`'s value is validated as (its constraints included)."""
    marker = spec.marker
    info = Field(
        title=marker.title,
        description=marker.description,
        deprecated=marker.deprecated,
        **marker.constraints,
    )
    return Annotated[spec.annotation, info]


def params_type(
    fields: list[FieldSpec], name: str, *, single_body: bool, body_required: bool
) -> Any:
    """Return the `TypedDict` of sections validated per request.

    With `single_body` the `body` section is the one body parameter itself.
    """
    sections: dict[str, Any] = {}
    required_sections: set[str] = set()
    by_section: dict[str, list[FieldSpec]] = {}
    for spec in fields:
        by_section.setdefault(spec.section, []).append(spec)
    for section, specs in by_section.items():
        if single_body and section == "body":
            # Later declarations of the one body read it too (see `_duplicates`).
            for spec in specs:
                top = section if spec is specs[0] else f"\0{spec.key}"
                sections[top] = _keyed(spec, section)
                if spec.required:
                    required_sections.add(top)
            continue
        keys = {s.key: (Required if s.required else NotRequired)[_keyed(s, s.name)] for s in specs}
        sections[section] = TypedDict(f"{name}_{section}", keys)  # type: ignore[operator]
        if section != "body" or body_required:
            required_sections.add(section)
    return TypedDict(  # type: ignore[operator]
        f"{name}_params",
        {k: (Required if k in required_sections else NotRequired)[v] for k, v in sections.items()},
    )


def _keyed(spec: FieldSpec, read: str) -> Any:
    """Return `field_type(spec)`, reading `read` when the key is not the name (a shadow)."""
    if spec.key == spec.name:
        return field_type(spec)
    return Annotated[field_type(spec), Field(validation_alias=read)]


def compile_adapter(params: Any, fields: list[FieldSpec], name: str) -> TypeAdapter[Any]:
    """Compile the validator; a type pydantic cannot read becomes one line naming the parameter."""
    from pydantic import PydanticSchemaGenerationError

    try:
        return TypeAdapter(params)
    except PydanticSchemaGenerationError:
        for spec in fields:
            try:
                TypeAdapter(field_type(spec))
            except PydanticSchemaGenerationError:
                raise _unsupported(spec, name) from None
        raise


def _unsupported(spec: FieldSpec, name: str) -> Exception:
    from trivium.errors import ConfigurationError

    kind = getattr(spec.annotation, "__qualname__", repr(spec.annotation))
    return ConfigurationError(
        f"handler {name} takes {spec.python_name}: {kind}, which trivium cannot read from "
        f"a request ({spec.source.value} parameter); if something provides it, declare "
        f"it as a dependency: {spec.python_name}: Annotated[{kind}, Depends(get_it)] "
        "(for a database session: Annotated[AsyncSession, db.depends()])",
        "param-unsupported-type",
    )


def core_validate(adapter: TypeAdapter[Any]) -> Callable[[Any], Any]:
    """Return pydantic-core's validate method, skipping TypeAdapter's Python-level wrapper."""
    try:
        return adapter.validator.validate_python
    except Exception:  # noqa: BLE001 - a deferred adapter (forward refs) keeps the wrapper
        return adapter.validate_python
