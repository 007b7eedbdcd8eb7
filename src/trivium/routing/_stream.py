"""Serve a generator handler: its items stream as JSON Lines, server-sent events or chunks.

A handler that is a generator function (`async def ... yield`, or a plain `def` with
`yield`) is not a dependency: it is called, and what it yields becomes the body while
the response is sent. The response class chooses the framing, once at start-up:

- none (or a JSON response class): JSON Lines (`application/jsonl`), one JSON value per
  line;
- `EventSourceResponse` (or a subclass): server-sent events; a yielded `ServerSentEvent`
  is sent as it is, anything else becomes the `data:` of an event, as JSON;
- `StreamingResponse` (or a subclass): the items are the body's chunks (`str` or bytes).

When the return annotation names the item type (`-> AsyncIterable[Item]`,
`Iterator[Item]`, `AsyncGenerator[Item, None]`...), each JSON item is validated against
it and dumped by pydantic, so fields outside the model never leak, and the
`response_model_*` filters apply to each item.
"""

from __future__ import annotations

import collections.abc
import inspect
import typing
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import get_args
from typing import get_origin

import orjson

from trivium.di._solver import RequestContext
from trivium.errors import ConfigurationError
from trivium.errors import ResponseValidationError
from trivium.http._response import JSONResponse
from trivium.http._response import Response
from trivium.http._response import json_default
from trivium.http._streaming import EventSourceResponse
from trivium.http._streaming import ServerSentEvent
from trivium.http._streaming import StreamingResponse

__all__ = ["is_generator_handler", "make_stream_serializer", "stream_item_type"]

JSON_LINES = "application/jsonl"
"""The media type of a JSON Lines stream (as FastAPI sends it)."""

_STREAM_ORIGINS = (
    collections.abc.AsyncIterable,
    collections.abc.AsyncIterator,
    collections.abc.AsyncGenerator,
    collections.abc.Iterable,
    collections.abc.Iterator,
    collections.abc.Generator,
)


def is_generator_handler(endpoint: Callable[..., Any]) -> bool:
    """Tell whether `endpoint` is a (sync or async) generator function."""
    target = endpoint
    if not (inspect.isfunction(endpoint) or inspect.ismethod(endpoint)):
        target = getattr(endpoint, "__call__", endpoint)  # noqa: B004 - callable instances
    return inspect.isasyncgenfunction(target) or inspect.isgeneratorfunction(target)


def stream_item_type(endpoint: Callable[..., Any]) -> Any:
    """Return the item type named by a generator's return annotation, or `None`.

    `Any` and `ServerSentEvent` items are not validated (an event is a framing, not data).
    """
    try:
        annotation = typing.get_type_hints(endpoint, include_extras=True).get("return")
    except Exception:  # noqa: BLE001 - an unresolvable return hint just isn't used
        return None
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) not in _STREAM_ORIGINS or not get_args(annotation):
        return None
    item = get_args(annotation)[0]
    if item is Any or (inspect.isclass(item) and issubclass(item, ServerSentEvent)):
        return None
    return item


def make_stream_serializer(
    *,
    status_code: int | None,
    response_class: type[Response] | None,
    dump: dict[str, Any],
    item_type: Any,
    name: str,
) -> Callable[[Any, RequestContext], Response]:
    """Compile the function that turns a generator handler's generator into a response.

    Raises:
        ConfigurationError: the response class cannot stream (`HTMLResponse`...).
    """
    status = status_code or 200
    to_json = _item_dumper(item_type, dump, name)
    if response_class is not None and issubclass(response_class, EventSourceResponse):
        sse_class = response_class

        def build(items: Any) -> Response:
            return sse_class(_map(items, lambda item: _event(item, to_json)), status_code=status)

    elif response_class is not None and issubclass(response_class, StreamingResponse):
        raw_class = response_class

        def build(items: Any) -> Response:
            return raw_class(items, status_code=status)

    elif response_class is None or issubclass(response_class, JSONResponse):

        def build(items: Any) -> Response:
            lines = _map(items, lambda item: to_json(item) + b"\n")
            return StreamingResponse(lines, status_code=status, media_type=JSON_LINES)

    else:
        raise ConfigurationError(
            f"{name} is a generator, whose items are streamed, but its response class "
            f"{response_class.__name__} cannot stream; use StreamingResponse, "
            "EventSourceResponse or no response class (JSON Lines)",
            "stream-response-class",
        )

    def serialize(result: Any, ctx: RequestContext) -> Response:
        if isinstance(result, Response):  # a generator function never returns one; a wrapper may
            return result
        response = build(result)
        temporal = ctx.response
        if temporal is not None:
            if temporal.status_code is not None:
                response.status_code = temporal.status_code
            response.raw_headers.extend(temporal.raw_headers)
        return response

    return serialize


def _item_dumper(item_type: Any, dump: dict[str, Any], name: str) -> Callable[[Any], bytes]:
    if item_type is None:
        return lambda item: orjson.dumps(item, default=json_default)
    from pydantic import TypeAdapter  # at route compilation: `import trivium` stays light

    try:
        adapter: TypeAdapter[Any] = TypeAdapter(item_type)
    except Exception as exc:
        raise ConfigurationError(
            f"{name}: stream item type {item_type!r} is not a valid pydantic type ({exc})",
            "response-model",
        ) from exc

    def to_json(item: Any) -> bytes:
        try:
            value = adapter.validate_python(item, from_attributes=True)
        except Exception as exc:
            errors = getattr(exc, "errors", None)
            raise ResponseValidationError(
                f"{name} yielded an item that does not match {item_type!r}: {exc}",
                errors(include_url=False) if callable(errors) else (),
                item,
            ) from exc
        return adapter.dump_json(value, **dump)

    return to_json


def _event(item: Any, to_json: Callable[[Any], bytes]) -> ServerSentEvent:
    if isinstance(item, ServerSentEvent):
        return item
    return ServerSentEvent(data=to_json(item).decode())


def _map(items: Any, convert: Callable[[Any], Any]) -> Any:
    """Apply `convert` to each item of a sync or async iterator, keeping it sync or async."""
    if hasattr(items, "__aiter__"):

        async def converted() -> AsyncIterator[Any]:
            try:
                async for item in items:
                    yield convert(item)
            finally:
                aclose = getattr(items, "aclose", None)
                if aclose is not None:
                    await aclose()

        return converted()

    def converted_sync() -> Iterator[Any]:
        try:
            for item in items:
                yield convert(item)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    return converted_sync()
