"""The parts of one OpenAPI operation, read from a compiled route.

A route's `analysis.fields` lists every request parameter of its handler and of all its
dependencies, so parameters, the request body and the 422 response come from there; the
success response comes from `route.response_model` and the route options; security
requirements come from the dependencies' `__openapi_security__` (see `_security`), and
the error responses a dependency can answer (a guard's 401 and 403) from its
`__openapi_responses__`, a mapping shaped like the `responses=` route option.
"""

from __future__ import annotations

import copy
import http
import inspect
import re
import types
import typing
from collections.abc import Mapping
from typing import Annotated
from typing import Any
from typing import get_args
from typing import get_origin

from pydantic import BaseModel
from pydantic import Field

from trivium.openapi._registry import SchemaRegistry
from trivium.openapi._registry import field_type
from trivium.openapi._registry import model_field_type
from trivium.openapi._registry import title_for
from trivium.openapi._security import SecurityRequirement
from trivium.params import ParamSource
from trivium.routing import Route
from trivium.routing import is_generator_handler
from trivium.routing import stream_item_type

__all__ = [
    "CONVERTER_SCHEMAS",
    "HTTP_ERROR_SCHEMA",
    "VALIDATION_SCHEMAS",
    "deep_merge",
    "dependency_responses",
    "is_component",
    "is_reference",
    "model_parameters",
    "openapi_path",
    "parameters",
    "responses",
    "security_requirements",
    "single_example",
    "unwrap_model",
]

_CONVERTER = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*):[a-zA-Z_][a-zA-Z0-9_]*}")
CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}
_PARAM_SOURCES = (ParamSource.PATH, ParamSource.QUERY, ParamSource.HEADER, ParamSource.COOKIE)
_NO_BODY_STATUSES = (204, 205, 304)

VALIDATION_SCHEMAS: dict[str, dict[str, Any]] = {
    "HTTPValidationError": {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {
            "detail": {
                "title": "Detail",
                "type": "array",
                "items": {"$ref": "#/components/schemas/ValidationError"},
            }
        },
    },
    "ValidationError": {
        "title": "ValidationError",
        "type": "object",
        "properties": {
            "loc": {
                "title": "Location",
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "msg": {"title": "Message", "type": "string"},
            "type": {"title": "Error Type", "type": "string"},
            "input": {"title": "Input"},
            "ctx": {"title": "Context", "type": "object"},
        },
        "required": ["loc", "msg", "type"],
    },
}
"""The components describing a 422 response (`{"detail": [{"loc", "msg", "type", ...}]}`)."""

HTTP_ERROR_SCHEMA: dict[str, Any] = {
    "title": "HTTPError",
    "type": "object",
    "properties": {"detail": {"title": "Detail"}},
    "required": ["detail"],
}
"""The component describing the body of an `HTTPException` response (`{"detail": ...}`)."""

_BODY_ERRORS = {
    "400": "Malformed request body",
    "413": "Request body too large",
    "415": "Unsupported media type",
}
_SSE_EVENT_SCHEMA: dict[str, Any] = {
    "title": "ServerSentEvent",
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}

_SSE_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}
"""One event of a generator handler's stream (OpenAPI 3.2 `itemSchema`)."""

ITEM_SCHEMA_KEY = "x-itemSchema"
"""Where a stream's item schema goes: OpenAPI 3.2's `itemSchema` as an extension, so the
3.1 document stays valid (trivium.compat.fastapi renames it to `itemSchema`, as FastAPI)."""


def openapi_path(path: str) -> str:
    """Return a route path with its converters dropped (`/{id:int}` → `/{id}`)."""
    return _CONVERTER.sub(r"{\1}", path)


def _fields(route: Route) -> list[Any]:
    return route.analysis.documented_fields() if route.analysis is not None else []


def unwrap_model(annotation: Any) -> Any:
    """Return the model class of a parameter model annotation (`Model` or `Model | None`)."""
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return unwrap_model(members[0])
    return annotation


def _parameter(  # noqa: PLR0913 - the fields of an OpenAPI Parameter object
    name: str,
    location: str,
    required: bool,
    schema: dict[str, Any],
    description: str | None,
    deprecated: bool | None,
    examples: dict[str, Any] | None = None,
    example: tuple[Any, ...] = (),
) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": location, "required": required}
    if description:
        param["description"] = description
    if deprecated:
        param["deprecated"] = True
    param["schema"] = schema
    if examples:
        param["examples"] = examples
    elif example:
        param["example"] = example[0]
    return param


def single_example(marker: object) -> tuple[Any, ...]:
    """Return `(value,)` for a marker given FastAPI's deprecated `example=value`, else `()`.

    As FastAPI, the value is documented beside the schema (the Parameter or Media Type
    object's `example`, which Swagger UI pre-fills), not in it. A marker keeps it in an
    `example` slot assigned only when the option is given.
    """
    missing = object()
    value = getattr(marker, "example", missing)
    return () if value is missing else (value,)


_LOCATION_ORDER = {"path": 0, "query": 1, "header": 2, "cookie": 3}


def model_parameters(spec: Any, registry: SchemaRegistry) -> list[dict[str, Any]]:
    """Expand a parameter model (`q: Annotated[Filters, Query()]`) into one parameter per field."""
    model = unwrap_model(spec.annotation)
    if not (inspect.isclass(model) and issubclass(model, BaseModel)):
        return []
    # `Model | None`: the request may leave the whole model out, so no field is required.
    optional = model is not spec.annotation
    convert = getattr(spec.marker, "convert_underscores", True)
    result = []
    for name, info in model.model_fields.items():
        wire = info.alias or name
        if spec.source is ParamSource.HEADER and convert and wire == name:
            wire = wire.replace("_", "-")
        if spec.source is ParamSource.HEADER:
            wire = wire.lower()
        schema = registry.schema(model_field_type(name, info))
        result.append(
            _parameter(
                wire,
                spec.source.value,
                info.is_required() and not optional,
                schema,
                info.description,
                bool(info.deprecated),
            )
        )
    return result


def parameters(route: Route, registry: SchemaRegistry) -> list[dict[str, Any]]:
    """Return the OpenAPI Parameter objects of `route` (path, query, header, cookie)."""
    result: list[dict[str, Any]] = []
    declared_path: set[str] = set()
    for spec in _fields(route):
        if spec.source not in _PARAM_SOURCES:
            continue
        if spec.source is ParamSource.PATH:
            declared_path.add(spec.name)
        elif not spec.marker.include_in_schema:
            continue
        if spec.is_model:
            result.extend(model_parameters(spec, registry))
            continue
        required = spec.source is ParamSource.PATH or spec.required
        marker = spec.marker
        documented = marker.title or marker.description or marker.examples or marker.constraints
        # A component (an enum) is referenced as it is, without the parameter's title
        # unless one is given (`Color | None` is an `anyOf`, titled as FastAPI's).
        reference = is_reference(spec.annotation)
        plain = reference and not documented and spec.required
        titled = not reference or bool(marker.title)
        schema = registry.schema(spec.annotation if plain else field_type(spec, titled=titled))
        if marker.deprecated:
            schema["deprecated"] = True  # in the schema too, as FastAPI (filled in later)
        result.append(
            _parameter(
                spec.name,
                spec.source.value,
                required,
                schema,
                marker.description,
                marker.deprecated,
                marker.openapi_examples,
                single_example(marker),
            )
        )
    # Path, query, header, then cookie parameters, as FastAPI lists them.
    result.sort(key=lambda p: _LOCATION_ORDER.get(p["in"], 4))
    # A path parameter the handler doesn't take still has to be documented.
    for name, converter in route.template.converters.items():
        if name not in declared_path:
            schema = {"title": title_for(name), **CONVERTER_SCHEMAS.get(converter.name, {})}
            schema.setdefault("type", "string")
            result.append(_parameter(name, "path", True, schema, None, None))
    return result


def _is_json(media_type: str) -> bool:
    media = media_type.partition(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _response_class(route: Route) -> Any:
    declared = route.options.get("response_class")
    if declared is not None:
        return declared
    try:
        annotation = typing.get_type_hints(route.endpoint).get("return")
    except Exception:  # noqa: BLE001 - an unresolvable hint documents nothing
        return None
    from trivium.http import Response

    if inspect.isclass(annotation) and issubclass(annotation, Response):
        # `-> Response` says nothing of the body: documented as the default (JSON), as FastAPI.
        return None if annotation is Response else annotation
    return None


def _stream_content(
    route: Route, response_class: Any, registry: SchemaRegistry
) -> dict[str, Any] | None:
    """Describe a generator handler's items (`x-itemSchema`), as JSON Lines or events."""
    from trivium.responses import EventSourceResponse
    from trivium.responses import StreamingResponse

    sse = response_class is not None and issubclass(response_class, EventSourceResponse)
    if not sse and response_class is not None and issubclass(response_class, StreamingResponse):
        return None  # raw chunks: documented by the response class's media type
    item = route.response_model
    if item is None:
        item = stream_item_type(route.endpoint)
    item_schema = registry.schema(item, "serialization") if item is not None else {}
    if not sse:
        return {"application/jsonl": {ITEM_SCHEMA_KEY: item_schema}}
    event = copy.deepcopy(_SSE_ITEM_SCHEMA)
    if item is not None:
        event["properties"]["data"] = {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": item_schema,
        }
        event["required"] = ["data"]
    return {"text/event-stream": {ITEM_SCHEMA_KEY: event}}


def is_reference(annotation: Any) -> bool:
    """Tell whether `annotation` is a component itself, documented as a bare `$ref`.

    `Item | None` is a component (see `is_component`) but not a reference: its schema is
    an `anyOf`, which FastAPI titles.
    """
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    return inspect.isclass(annotation) and is_component(annotation)


def is_component(annotation: Any) -> bool:
    """Tell whether `annotation`'s schema is a `$ref` to a component (a model, an enum...)."""
    import dataclasses
    import enum

    annotation = unwrap_model(annotation)
    return inspect.isclass(annotation) and (
        issubclass(annotation, (BaseModel, enum.Enum))
        or dataclasses.is_dataclass(annotation)
        or typing.is_typeddict(annotation)
    )


def _success_content(
    route: Route, registry: SchemaRegistry, operation_id: str = ""
) -> dict[str, Any] | None:
    response_class = _response_class(route)
    if is_generator_handler(route.endpoint):
        streamed = _stream_content(route, response_class, registry)
        if streamed is not None:
            return streamed
    media = "application/json" if response_class is None else response_class.media_type
    if media is None:
        return None
    if media.partition(";")[0].strip().lower() == "text/event-stream":
        # Before OpenAPI 3.2 (`itemSchema`), tools read an event stream's schema per event.
        return {media: {"schema": copy.deepcopy(_SSE_EVENT_SCHEMA)}}
    if not _is_json(media):
        return {media: {"schema": {"type": "string"}}}
    model = route.response_model
    if model is not None and operation_id and not is_reference(model):
        # As FastAPI: an inline response schema is titled after the operation.
        title = f"Response_{operation_id}".replace("_", " ").title()
        model = Annotated[model, Field(title=title)]
    schema = registry.schema(model, "serialization") if model is not None else {}
    return {media: {"schema": schema}}


def deep_merge(target: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Merge `extra` into `target`, recursing into nested dicts; `extra` wins."""
    for key, value in extra.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            deep_merge(current, value)
        else:
            target[key] = copy.deepcopy(value)


_RANGE_PHRASES = {
    "1XX": "Information",
    "2XX": "Success",
    "3XX": "Redirection",
    "4XX": "Client Error",
    "5XX": "Server Error",
    "default": "Default Response",
}
"""The descriptions of range and default responses left undescribed, FastAPI's words."""


def _response_key(code: object) -> str:
    """Return the Responses-object key of `code`: `404`, `4XX` (upper case) or `default`."""
    key = str(code).upper()
    return "default" if key == "DEFAULT" else key


def _phrase(key: str) -> str:
    if key in _RANGE_PHRASES:
        return _RANGE_PHRASES[key]
    try:
        return http.HTTPStatus(int(key)).phrase
    except ValueError:
        return "Additional Response"


def _route_media_type(route: Route) -> str:
    """Return the media type of `route`'s declared response class, JSON when it names none.

    FastAPI documents a declared response's `model` under it.
    """
    response_class = route.options.get("response_class")
    return getattr(response_class, "media_type", None) or "application/json"


def _declare(
    result: dict[str, Any],
    declared_responses: Mapping[Any, Any],
    registry: SchemaRegistry,
    media_type: str = "application/json",
) -> None:
    """Merge declared responses (`{404: {"model": M, "description": ...}}`) into `result`.

    A `model` is documented under `media_type`.
    """
    for code, declared in declared_responses.items():
        key = _response_key(code)
        target = result.setdefault(key, {})
        model = declared.get("model")
        if model is not None:
            content = target.setdefault("content", {})
            content.setdefault(media_type, {})["schema"] = registry.schema(model, "serialization")
        deep_merge(target, {k: v for k, v in declared.items() if k != "model"})
        target.setdefault("description", _phrase(key))


def dependency_responses(route: Route) -> list[Mapping[Any, Any]]:
    """Return the `__openapi_responses__` of `route`'s dependencies and request steps.

    A dependency that can answer for the route (a guard raising 401 or 403), or a
    plugin's request step (a rate limit's 429), documents those answers with this
    attribute, a mapping shaped like the `responses=` option.
    """
    found: list[Mapping[Any, Any]] = []
    calls = route.analysis.dependency_calls if route.analysis is not None else []
    calls = [*calls, *getattr(route, "request_steps", ())]
    for call in calls:
        value = getattr(call, "__openapi_responses__", None)
        if isinstance(value, Mapping) and value:
            found.append(value)
    return found


def responses(  # noqa: PLR0913 - the switches of FastAPI's and trivium's documents
    route: Route,
    registry: SchemaRegistry,
    has_input: bool,
    body_errors: bool = False,
    dependency_errors: bool = True,
    operation_id: str = "",
) -> dict[str, Any]:
    """Return the OpenAPI Responses object of `route`: success, declared, then errors.

    `dependency_errors` adds the responses the dependencies document (see
    `dependency_responses`), under those declared on the route, which win; `has_input`
    adds the 422 validation error; `body_errors` the 400, 413 and 415 answered when the
    request body is malformed, too large or of the wrong media type.
    """
    options = route.options
    status = options.get("status_code") or 200
    success: dict[str, Any] = {
        "description": options.get("response_description", "Successful Response")
    }
    if status >= 200 and status not in _NO_BODY_STATUSES:
        content = _success_content(route, registry, operation_id)
        if content is not None:
            success["content"] = content
    result: dict[str, Any] = {str(status): success}
    if dependency_errors:
        for extra in dependency_responses(route):
            _declare(result, {c: d for c, d in extra.items() if str(c) != str(status)}, registry)
    _declare(result, options.get("responses", {}), registry, _route_media_type(route))
    if has_input and "422" not in result:
        result["422"] = {
            "description": "Validation Error",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
            },
        }
    if body_errors:
        for code, description in _BODY_ERRORS.items():
            result.setdefault(code, _http_error(description))
    first = str(status)
    others = sorted((k for k in result if k != first), key=lambda k: (k == "default", k))
    return {first: result[first], **{k: result[k] for k in others}}


def _http_error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPError"}}},
    }


def security_requirements(route: Route) -> list[SecurityRequirement]:
    """Return the security requirements of `route`'s dependencies, in dependency order."""
    found: list[SecurityRequirement] = []
    calls = route.analysis.dependency_calls if route.analysis is not None else []
    scopes = route.analysis.call_scopes if route.analysis is not None else {}
    for call in calls:
        value = getattr(call, "__openapi_security__", None)
        if isinstance(value, tuple):
            requirement = SecurityRequirement(*value)
            extra = [s for s in scopes.get(call, ()) if s not in requirement.scopes]
            if extra:  # scopes required with `Security(scheme, scopes=[...])`
                requirement = requirement._replace(scopes=(*requirement.scopes, *extra))
            if requirement not in found:
                found.append(requirement)
    return found
