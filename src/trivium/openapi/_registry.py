"""Collect every type a document needs, then turn them into JSON Schemas in one pydantic pass.

Pydantic names and de-duplicates definitions only when it sees all the types together
(`GenerateJsonSchema.generate_definitions`), and that is also how it decides whether a
model needs separate `Item-Input` and `Item-Output` schemas. So building a document is
two-phase: `SchemaRegistry.schema()` hands out an empty dict as a placeholder wherever a
schema goes, and `resolve()` fills every placeholder and returns the shared definitions.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Annotated
from typing import Any
from typing import Literal

from pydantic import Field
from pydantic import TypeAdapter
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from pydantic_core import PydanticUndefined

__all__ = [
    "COMPONENTS_REF",
    "SchemaRegistry",
    "field_info",
    "field_type",
    "model_field_type",
    "title_for",
]

COMPONENTS_REF = "#/components/schemas/{model}"
Mode = Literal["validation", "serialization"]


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, quiet about what a document can live without."""

    # Defaults that are not JSON (objects, callables) are just left out of the schema.
    ignored_warning_kinds = {"skipped-choice", "non-serializable-default"}  # noqa: RUF012 - pydantic's own class attribute

    def handle_invalid_for_json_schema(self, schema: Any, error_info: str) -> JsonSchemaValue:
        """Describe a type that has no JSON Schema (a callable, an arbitrary class) as `{}`."""
        return {}


class SchemaRegistry:
    """Hand out schema placeholders, then fill them all at once."""

    __slots__ = ("_inputs", "_ref_template", "_separate", "_slots")

    def __init__(self, ref_template: str = COMPONENTS_REF, *, separate_modes: bool = True) -> None:
        self._ref_template = ref_template
        self._separate = separate_modes
        self._inputs: list[tuple[Hashable, Mode, CoreSchema]] = []
        self._slots: list[dict[str, Any]] = []

    def schema(self, annotation: Any, mode: Mode = "validation") -> dict[str, Any]:
        """Return the placeholder of `annotation`'s schema, filled in by `resolve()`."""
        slot: dict[str, Any] = {}
        if not self._separate:
            mode = "validation"  # one schema per model, as `separate_input_output_schemas=False`
        core = TypeAdapter(annotation).core_schema
        self._inputs.append((len(self._slots), mode, core))
        self._slots.append(slot)
        return slot

    def resolve(self) -> dict[str, Any]:
        """Fill every placeholder and return the shared definitions, by name."""
        if not self._inputs:
            return {}
        generator = _Generator(ref_template=self._ref_template)
        mapping, definitions = generator.generate_definitions(self._inputs)
        for (key, mode, _), slot in zip(self._inputs, self._slots, strict=True):
            slot.update(mapping[(key, mode)])
        return {str(name): schema for name, schema in definitions.items()}


def title_for(name: str) -> str:
    """Return the title pydantic would give a field called `name` ("item_id" → "Item Id")."""
    return name.replace("_", " ").replace("-", " ").title()


def field_info(spec: Any, *, alias: str | None = None, titled: bool = True) -> FieldInfo:
    """Return the pydantic field of `spec` (a route's `FieldSpec`): constraints, docs, default.

    `alias` is given for the fields of a synthetic body model, which are keyed by it.
    """
    marker = spec.marker
    kwargs: dict[str, Any] = dict(marker.constraints)
    if marker.default_factory is not None:
        kwargs["default_factory"] = marker.default_factory
    elif not spec.required:
        kwargs["default"] = spec.default
    if alias is not None:
        # Only a model field can carry these; a parameter documents `deprecated` itself.
        kwargs["alias"] = alias
        kwargs["deprecated"] = marker.deprecated
    if alias is None:
        # A parameter is titled after the name the client sends ("User-Agent"), as FastAPI.
        title = (spec.name or spec.python_name).replace("_", " ").title()
        titled_as = (marker.title or title) if titled else None
    else:
        # A body model's field: pydantic titles it after its alias, except where the
        # schema is a reference to a component (`"item": {"$ref": ...}`), as FastAPI's.
        titled_as = marker.title
    info: FieldInfo = Field(
        title=titled_as,
        description=marker.description,
        examples=marker.examples,
        **kwargs,
    )
    return info


def field_type(spec: Any, *, titled: bool = True) -> Any:
    """Return `spec`'s annotation with its pydantic field attached (see `field_info`)."""
    return Annotated[spec.annotation, field_info(spec, titled=titled)]


def model_field_type(name: str, info: FieldInfo) -> Any:
    """Return one field of a parameter model as a standalone annotated type."""
    kwargs: dict[str, Any] = {}
    if info.default_factory is None and info.default is not PydanticUndefined:
        kwargs["default"] = info.default
    field: FieldInfo = Field(
        title=info.title or title_for(name),
        description=info.description,
        examples=info.examples,
        json_schema_extra=info.json_schema_extra,
        **kwargs,
    )
    return Annotated[(info.annotation, *info.metadata, field)]
