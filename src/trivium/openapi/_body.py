"""The request body of an operation: JSON, form fields, form models and files.

Form models beside other form fields are documented as FastAPI does: a `Body_<operation>`
component whose own properties are the plain fields, with the models in `allOf`. File
fields are strings of binary content (`contentMediaType`, OpenAPI 3.1).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Annotated
from typing import Any
from typing import get_args
from typing import get_origin

from pydantic import BaseModel
from pydantic import GetJsonSchemaHandler
from pydantic import WithJsonSchema
from pydantic import create_model

from trivium.openapi._operation import _fields
from trivium.openapi._operation import is_reference
from trivium.openapi._operation import single_example
from trivium.openapi._operation import unwrap_model
from trivium.openapi._registry import SchemaRegistry
from trivium.openapi._registry import field_info
from trivium.openapi._registry import field_type
from trivium.params import ParamSource
from trivium.routing import Route

__all__ = ["body_fields", "request_body"]


def body_fields(route: Route) -> list[Any]:
    """Return the documented fields of the request body (JSON, form and file fields)."""
    return [f for f in _fields(route) if f.section == "body" and f.marker.include_in_schema]


def _body_model_schema(
    name: str, specs: list[Any], registry: SchemaRegistry, models: Sequence[Any] = ()
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        f"field_{index}": (_file_type(spec), field_info(spec, alias=spec.name))
        for index, spec in enumerate(specs)
    }
    if not models:
        return registry.schema(create_model(name, **fields))
    # The models ride along as fields, whose schemas (references) move into `allOf`.
    hidden = {f"{_ALL_OF}{i}": unwrap_model(m.annotation) for i, m in enumerate(models)}
    return registry.schema(create_model(name, __base__=_AllOf, **fields, **hidden))


_ALL_OF = "trivium_all_of_"
_BINARY = WithJsonSchema({"type": "string", "contentMediaType": "application/octet-stream"})


def _file_type(spec: Any) -> Any:
    """Document a `bytes` file field as binary content (OpenAPI 3.1), as an upload is."""
    if spec.source is not ParamSource.FILE:
        return spec.annotation
    return _swap_bytes(spec.annotation)


def _swap_bytes(annotation: Any) -> Any:
    if annotation is bytes:
        return Annotated[bytes, _BINARY]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_swap_bytes(a) for a in args)]  # noqa: UP007 - built at runtime
    if origin in (list, set, tuple, frozenset) and args:
        return origin[tuple(_swap_bytes(a) for a in args)]
    return annotation


class _AllOf(BaseModel):
    """A synthetic body schema whose `trivium_all_of_*` fields become `allOf` entries."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: Any, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        properties = target.get("properties", {})
        hidden = [key for key in properties if key.startswith(_ALL_OF)]
        target["allOf"] = [properties.pop(key) for key in hidden]
        required = [key for key in target.get("required", []) if key not in hidden]
        if required:
            target["required"] = required
        else:
            target.pop("required", None)
        return schema


def request_body(
    route: Route, operation_id: str, registry: SchemaRegistry
) -> dict[str, Any] | None:
    """Return the OpenAPI Request Body object of `route`, or `None` when it takes no body."""
    specs = body_fields(route)
    if not specs:
        return None
    required = any(f.required for f in specs)
    form = [f for f in specs if f.source is not ParamSource.BODY]
    model_name = f"Body_{operation_id}"
    whole = None  # the parameter that is the whole body, whose `example` FastAPI documents
    if form:
        multipart = any(
            f.source is ParamSource.FILE or f.marker.media_type == "multipart/form-data"
            for f in form
        )
        media = "multipart/form-data" if multipart else form[0].marker.media_type
        models = [f for f in form if f.is_model]
        if len(models) == 1 and len(form) == 1:
            whole = models[0]
            schema = registry.schema(unwrap_model(whole.annotation))
            required = whole.required  # `= None` makes the form optional, as the server has it
        elif models:
            # Form models beside other fields: the models' fields join the body's (`allOf`).
            plain = [f for f in form if not f.is_model]
            schema = _body_model_schema(model_name, plain, registry, models)
            required = True
        else:
            schema = _body_model_schema(model_name, form, registry)
    elif len(specs) == 1 and not getattr(specs[0].marker, "embed", False):
        spec = whole = specs[0]
        media = spec.marker.media_type
        marker = spec.marker
        documented = marker.title or marker.description or marker.examples or marker.constraints
        if is_reference(spec.annotation) and not marker.title:
            # A model is referenced; its docs go beside the reference, untitled (as FastAPI).
            schema = registry.schema(
                field_type(spec, titled=False) if documented else spec.annotation
            )
        else:  # a body that is not a reference (`dict[str, float]`, `Item | None`) is titled
            schema = registry.schema(field_type(spec))
    else:
        media = specs[0].marker.media_type
        schema = _body_model_schema(model_name, specs, registry)
    content: dict[str, Any] = {"schema": schema}
    if len(specs) == 1 and specs[0].marker.openapi_examples:
        content["examples"] = specs[0].marker.openapi_examples
    elif whole is not None and single_example(whole.marker):
        content["example"] = single_example(whole.marker)[0]  # FastAPI's deprecated option
    body: dict[str, Any] = {"content": {media: content}}
    if required:  # OpenAPI's default is optional, and FastAPI leaves `false` out too
        body["required"] = True
    return body
