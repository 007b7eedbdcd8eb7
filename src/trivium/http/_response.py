"""Responses with a fully rendered body.

A response is rendered once in its constructor: the body bytes and the raw header list
are ready before sending, so every protocol adapter (ASGI, RSGI) just writes them out.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from typing import ClassVar
from typing import Literal
from urllib.parse import quote

import orjson

from trivium.http._cookies import format_set_cookie
from trivium.http._datastructures import URL
from trivium.http._datastructures import MutableHeaders
from trivium.http._datastructures import check_header_name
from trivium.http._datastructures import check_header_value
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = [
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "dump_json",
    "json_default",
]

RawHeaders = list[tuple[bytes, bytes]]
BackgroundRunner = Callable[[], Any]


def json_default(value: Any) -> Any:
    """Convert what orjson cannot serialize natively (models, sets, decimals, timedeltas)."""
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json", by_alias=True)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode()
    from datetime import timedelta

    if isinstance(value, timedelta):
        return value.total_seconds()  # as pydantic and FastAPI: seconds, as a float
    from pathlib import PurePath

    if isinstance(value, PurePath):
        return str(value)
    # What pydantic knows how to write: URLs, IP addresses, secrets (masked), patterns,
    # generators... as FastAPI's `jsonable_encoder` does.
    from pydantic_core import PydanticSerializationError
    from pydantic_core import to_jsonable_python

    try:
        return to_jsonable_python(value)
    except PydanticSerializationError:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable") from None


def dump_json(content: Any, option: int = 0) -> bytes:
    """Serialize `content` with orjson and `json_default`; dict keys need not be strings.

    Keys that are not strings (`{1: 2.5}`) are written as strings, as FastAPI's encoder
    does; orjson refuses them by default, so only a dict holding such keys pays the
    second attempt. Integers beyond 64 bits, which orjson refuses, are written by the
    standard library's encoder (a third attempt, for such content only).
    """
    try:
        return orjson.dumps(content, default=json_default, option=option)
    except TypeError:
        try:
            return orjson.dumps(
                content, default=json_default, option=option | orjson.OPT_NON_STR_KEYS
            )
        except TypeError as exc:
            if "64-bit" not in str(exc):
                raise
            return _dump_big_ints(content, option)


def _dump_big_ints(content: Any, option: int) -> bytes:
    """`dump_json` for content holding integers orjson can't write (beyond 64 bits)."""
    import json

    def default(value: Any) -> Any:
        # What orjson writes natively, the standard library's encoder doesn't know.
        if hasattr(value, "isoformat"):
            return _orjson_text(value)
        if isinstance(value, str):  # a str subclass (an Enum's value)
            return str(value)
        return json_default(value)

    def keys(value: Any) -> Any:
        # The standard library writes str, int, float, bool and None keys; orjson's
        # others (dates, UUIDs, enums) as orjson writes them.
        if isinstance(value, dict):
            return {
                k if k is None or isinstance(k, (str, int, float)) else _orjson_text(k): keys(v)
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [keys(item) for item in value]
        return value

    text = json.dumps(
        keys(content),
        default=default,
        ensure_ascii=False,
        separators=(",", ":"),
        indent=2 if option & orjson.OPT_INDENT_2 else None,
    )
    return text.encode()


def _orjson_text(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, default=json_default))


class Response:
    """An HTTP response whose body is known up front.

    Args:
        content: `bytes`, `str` (encoded with `charset`) or `None` for an empty body.
        status_code: the HTTP status.
        headers: extra headers.
        media_type: the content type; a `charset` is appended for `text/*`.
        background: a `BackgroundTasks` (or any awaitable-returning callable) run after
            the response is sent.
    """

    __slots__ = ("_headers", "background", "body", "raw_headers", "status_code")

    media_type: ClassVar[str | None] = None
    """The default content type of this response class."""
    charset: ClassVar[str] = "utf-8"
    """The charset used to encode `str` content."""

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Any = None,
    ) -> None:
        self.status_code = status_code
        """The HTTP status code."""
        self.background = background
        """Work to run after the response is sent."""
        self.body: bytes = self.render(content)
        """The rendered body."""
        self._headers: MutableHeaders | None = None
        type_pair = self._type_pair
        if (
            type_pair is not None
            and headers is None
            and media_type is None
            and 200 <= status_code < 300
            and status_code != 204
        ):
            # The usual response, built with the fewest steps: it is made per request.
            self.raw_headers: RawHeaders = [
                (b"content-length", str(len(self.body)).encode()),
                type_pair,
            ]
            """Header pairs as bytes, in the order they are sent."""
            return
        if not self._has_body():
            self.body = b""  # a 1xx, 204 or 304 never has content (`JSONResponse(None)` is "null")
        self.raw_headers = self._initial_headers(headers, media_type or self.media_type)

    _type_pair: ClassVar[tuple[bytes, bytes] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The class's own content-type header, encoded once.
        cls._type_pair = (
            (b"content-type", _content_type(cls.media_type, cls.charset))
            if cls.media_type is not None
            else None
        )

    def render(self, content: Any) -> bytes:
        """Turn `content` into body bytes."""
        if type(content) is str:
            return content.encode(self.charset)
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, (bytearray, memoryview)):
            return bytes(content)
        return str(content).encode(self.charset)

    def _initial_headers(
        self, headers: Mapping[str, str] | None, media_type: str | None
    ) -> RawHeaders:
        if not headers and media_type is not None and self._has_body():
            # The common case, kept cheap: a content type (encoded once per type) and a length.
            return [
                (b"content-length", str(len(self.body)).encode()),
                (b"content-type", _content_type(media_type, self.charset)),
            ]
        raw: RawHeaders = []
        has_type = has_length = False
        if headers:
            for key, value in headers.items():
                name = key.lower()
                has_type = has_type or name == "content-type"
                has_length = has_length or name == "content-length"
                check_header_name(key)
                check_header_value(value)
                raw.append((name.encode("latin-1"), value.encode("latin-1")))
        if not has_length and self.body is not None and self._has_body():
            raw.append((b"content-length", str(len(self.body)).encode()))
        if media_type is not None and not has_type:
            raw.append((b"content-type", _content_type(media_type, self.charset)))
        return raw

    def _has_body(self) -> bool:
        return self.status_code >= 200 and self.status_code not in (204, 304)

    @property
    def headers(self) -> MutableHeaders:
        """The response headers, editable."""
        if self._headers is None:
            self._headers = MutableHeaders(raw=self.raw_headers)
        return self._headers

    @property
    def media_type_header(self) -> str | None:
        """The content type actually sent."""
        return self.headers.get("content-type")

    def set_cookie(  # noqa: PLR0913 - mirrors the cookie attributes one to one
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = True,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a `Set-Cookie` header; HttpOnly and SameSite=Lax unless told otherwise.

        Raises:
            ValueError: the name is not a valid cookie name, or SameSite is unknown.
        """
        text = format_set_cookie(
            key,
            value,
            max_age=max_age,
            expires=expires,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )
        self.headers.append("set-cookie", text)

    def delete_cookie(  # noqa: PLR0913 - mirrors set_cookie
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = True,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Expire the cookie `key` in the client."""
        self.set_cookie(
            key,
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    async def send_asgi(self, send: Send, head_only: bool = False) -> None:
        """Write the response through an ASGI `send` (body omitted for HEAD)."""
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": b"" if head_only else self.body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve as a standalone ASGI app (used when mounted or returned from middleware)."""
        await self.send_asgi(send, scope.get("method") == "HEAD")
        if self.background is not None:
            await self.background()


_CONTENT_TYPES: dict[tuple[str, str], bytes] = {}


def _content_type(media_type: str, charset: str) -> bytes:
    try:
        return _CONTENT_TYPES[media_type, charset]
    except KeyError:
        value = media_type
        if media_type.startswith("text/") and "charset=" not in media_type:
            value += f"; charset={charset}"
        check_header_value(value)  # once per type: only checked values are kept
        encoded = value.encode("latin-1")
        if len(_CONTENT_TYPES) < 256:
            _CONTENT_TYPES[media_type, charset] = encoded
        return encoded


class HTMLResponse(Response):
    """A `text/html` response."""

    __slots__ = ()
    media_type = "text/html"


class PlainTextResponse(Response):
    """A `text/plain` response."""

    __slots__ = ()
    media_type = "text/plain"


class JSONResponse(Response):
    """A JSON response serialized with orjson (pydantic models, dataclasses, datetimes, UUIDs)."""

    __slots__ = ()
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialize `content` to JSON bytes."""
        return dump_json(content, orjson.OPT_SERIALIZE_NUMPY)


class RedirectResponse(Response):
    """Redirect to `url` (307 by default, so the method and body are kept)."""

    __slots__ = ()

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: Any = None,
    ) -> None:
        location = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")
        super().__init__(
            None, status_code, {**(headers or {}), "location": location}, background=background
        )
