"""Turn a handler's return value into a response, by a function chosen at start-up.

With a response model (the `response_model=` option or the return annotation) the value
is validated against it and dumped by pydantic-core, so fields outside the model never
leak. Without one, plain data goes straight to orjson.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any
from typing import get_args
from typing import get_origin

from pydantic import BaseModel
from pydantic import TypeAdapter

from trivium.di._solver import RequestContext
from trivium.errors import ConfigurationError
from trivium.errors import ResponseValidationError
from trivium.http._response import Response
from trivium.http._response import dump_json
from trivium.routing._stream import is_generator_handler
from trivium.routing._stream import make_stream_serializer
from trivium.routing._stream import stream_item_type

__all__ = ["Serializer", "make_serializer", "model_from_annotation"]

Serializer = Callable[[Any, RequestContext], Response]

_JSON = b"application/json"
_PLAIN_TYPES = (dict, list, str, int, float, bool, bytes, tuple, set)


def json_response(body: bytes, status: int) -> Response:
    """Build a JSON response from ready bytes without re-rendering."""
    response = Response.__new__(Response)
    response.status_code = status
    response.background = None
    response._headers = None
    if status < 200 or status in (204, 304):
        response.body = b""
        response.raw_headers = []
    else:
        response.body = body
        response.raw_headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", _JSON),
        ]
    return response


def model_from_annotation(endpoint: Callable[..., Any]) -> Any:
    """Return the return annotation when it should filter the output, else `None`."""
    if inspect.isgeneratorfunction(endpoint) or inspect.isasyncgenfunction(endpoint):
        return None  # a generator's items are streamed, not validated as one value
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except Exception:  # noqa: BLE001 - an unresolvable return hint just isn't used
        return None
    annotation = hints.get("return")
    if annotation is None or annotation is Any or annotation is type(None):
        return None
    if annotation in _PLAIN_TYPES:
        return None
    members = (
        get_args(annotation)
        if get_origin(annotation) in (typing.Union, types.UnionType)
        else (annotation,)
    )
    for member in members:
        if inspect.isclass(member) and issubclass(member, Response):
            return None
        origin = get_origin(member)
        streamed = (collections.abc.AsyncIterable, collections.abc.Iterator)
        if inspect.isclass(origin) and issubclass(origin, streamed):
            return None  # a generator's items are streamed, not validated as one value
    return annotation


def _merge(response: Response, temporal: Response | None, default_status: int | None) -> Response:
    if temporal is not None:
        if temporal.status_code is not None:
            response.status_code = temporal.status_code
            if temporal.status_code < 200 or temporal.status_code in (204, 304):
                response.body = b""
                response.raw_headers = [
                    (k, v)
                    for k, v in response.raw_headers
                    if k not in (b"content-length", b"content-type")
                ]
        _add_headers(response, temporal)
    elif default_status is not None and response.status_code == 200:
        response.status_code = default_status
    return response


def _add_headers(response: Response, temporal: Response) -> Response:
    """Add the cookies and the headers `response` lacks from the `Response` parameter."""
    if temporal.raw_headers:
        present = {k for k, _ in response.raw_headers if k != b"set-cookie"}
        response.raw_headers.extend(
            (k, v) for k, v in temporal.raw_headers if k == b"set-cookie" or k not in present
        )
    return response


def make_serializer(  # noqa: PLR0913, C901 - one closure per output strategy, chosen once
    *,
    response_model: Any,
    status_code: int | None,
    response_class: type[Response] | None,
    exclude_unset: bool = False,
    exclude_none: bool = False,
    by_alias: bool = True,
    exclude_defaults: bool = False,
    include: Any = None,
    exclude: Any = None,
    name: str = "handler",
    endpoint: Callable[..., Any] | None = None,
) -> Serializer:
    """Compile the function that turns `(result, ctx)` into a `Response`.

    `include`/`exclude` filter fields (pydantic's syntax) with or without a response
    model: a field listed in `exclude` is never sent. A generator `endpoint` streams its
    items (see `trivium.routing._stream`).
    """
    status = status_code or 200
    filtered = include is not None or exclude is not None or exclude_defaults
    dump: dict[str, Any] = {
        "exclude_unset": exclude_unset,
        "exclude_none": exclude_none,
        "by_alias": by_alias,
    }
    if endpoint is not None and is_generator_handler(endpoint):
        item_type = response_model if response_model is not None else stream_item_type(endpoint)
        if item_type is None and filtered:
            item_type = Any  # filtering needs pydantic's serializer, as below
        if filtered:
            dump.update(_filters(item_type, include, exclude), exclude_defaults=exclude_defaults)
        return make_stream_serializer(
            status_code=status_code,
            response_class=response_class,
            dump=dump,
            item_type=item_type,
            name=name,
        )
    if response_model is None and filtered:
        # Filtering needs pydantic's serializer even for plain data (dicts, models).
        response_model = Any
    adapter = _adapter(response_model, name)
    plain_json = response_class is None or response_class in _json_classes()
    validate, to_json = _core_methods(adapter) if adapter is not None else (None, None)

    if filtered:
        dump.update(_filters(response_model, include, exclude), exclude_defaults=exclude_defaults)

    def to_bytes(result: Any) -> bytes:
        if validate is not None and to_json is not None:
            return to_json(_validated(validate, result, name), **dump)
        if isinstance(result, BaseModel):
            return result.__pydantic_serializer__.to_json(result, **dump)
        return dump_json(result)

    def serialize(result: Any, ctx: RequestContext) -> Response:
        temporal = ctx.response
        if isinstance(result, Response):
            # A response the handler made keeps its own status (and body): only the
            # headers and cookies set on the parameter are added to it.
            return result if temporal is None else _add_headers(result, temporal)
        if plain_json:
            response = json_response(to_bytes(result), status)
        else:
            assert response_class is not None
            if adapter is not None:
                # As FastAPI: the model filters the content before any response class sees it.
                result = adapter.dump_python(
                    _validated(adapter.validate_python, result, name), mode="json", **dump
                )
            response = response_class(result, status_code=status)
        if temporal is not None:
            return _merge(response, temporal, None)
        return response

    return serialize


def _validated(validate: Callable[..., Any], result: Any, name: str) -> Any:
    try:
        return validate(result, from_attributes=True)
    except Exception as exc:
        errors = getattr(exc, "errors", None)
        raise ResponseValidationError(
            f"{name} returned a value that does not match its response model: {exc}",
            errors(include_url=False) if callable(errors) else (),
            result,
        ) from exc


def _adapter(response_model: Any, name: str) -> TypeAdapter[Any] | None:
    if response_model is None:
        return None
    try:
        return TypeAdapter(response_model)
    except Exception as exc:
        raise ConfigurationError(
            f"{name}: response model {response_model!r} is not a valid pydantic type ({exc})",
            "response-model",
        ) from exc


def _filters(model: Any, include: Any, exclude: Any) -> dict[str, Any]:
    """Return pydantic's `include`/`exclude`, applied to every item of a list model.

    Pydantic reads a set given for a list as item indices, so `exclude={"password"}`
    on `list[User]` would filter nothing; a field excluded must never be returned.
    """
    origin = get_origin(model)
    sequence = inspect.isclass(origin) and issubclass(origin, (list, tuple, set, frozenset))

    def per_item(fields: Any) -> Any:
        names = isinstance(fields, (set, frozenset)) and all(isinstance(f, str) for f in fields)
        return {"__all__": fields} if sequence and names else fields

    return {"include": per_item(include), "exclude": per_item(exclude)}


def _core_methods(adapter: TypeAdapter[Any]) -> tuple[Callable[..., Any], Callable[..., bytes]]:
    """Return pydantic-core's validate and dump methods, skipping TypeAdapter's wrappers."""
    try:
        return adapter.validator.validate_python, adapter.serializer.to_json
    except Exception:  # noqa: BLE001 - a deferred adapter (forward refs) keeps the wrappers
        return adapter.validate_python, adapter.dump_json


def _json_classes() -> tuple[type[Response], ...]:
    from trivium.http._response import JSONResponse

    return (JSONResponse,)
