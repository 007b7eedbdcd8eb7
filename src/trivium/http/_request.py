"""The incoming request, parsed lazily.

Nothing is decoded until a handler asks for it: headers stay raw bytes, the query string
is parsed on first access to `query_params`, the body is read on the first `body()`.
`HTTPConnection` holds what HTTP requests and websockets share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import MutableMapping
from typing import TYPE_CHECKING
from typing import Any

import orjson

from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.http._cookies import parse_cookie_header
from trivium.http._datastructures import URL
from trivium.http._datastructures import Address
from trivium.http._datastructures import FormData
from trivium.http._datastructures import Headers
from trivium.http._datastructures import QueryParams
from trivium.http._datastructures import State
from trivium.http._limits import FormLimits
from trivium.http._limits import Limits
from trivium.http._limits import check_content_encoding
from trivium.http._limits import check_json_depth
from trivium.http._limits import loads_long_integers
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from trivium.app import App

__all__ = ["ClientDisconnect", "HTTPConnection", "Request"]

DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024
DEFAULT_LIMITS = Limits()


def scope_header(scope: Scope, name: str) -> str | None:
    """Return the first value of request header `name` in `scope`, or `None`.

    The one place that knows where each protocol keeps a request's headers: an RSGI
    request whose scope was never completed has them in the server's own map, read as
    is; otherwise they are the ASGI scope's `headers` list.
    """
    rsgi = scope.get("rsgi.scope")
    if rsgi is not None and "headers" not in scope:
        value: str | None = rsgi.headers.get(name.lower())
        return value
    key = name.lower().encode("latin-1")
    for raw_name, raw_value in scope["headers"]:
        if raw_name == key:
            return raw_value.decode("latin-1")  # type: ignore[no-any-return]
    return None


class ClientDisconnect(Exception):  # noqa: N818 - an event, not an error of ours
    """The client went away while its request body was being read."""


class HTTPConnection:
    """What an HTTP request and a websocket have in common."""

    __slots__ = ("_cookies", "_headers", "_query", "_state", "_url", "receive", "scope", "send")

    def __init__(self, scope: Scope, receive: Receive, send: Send | None = None) -> None:
        self.scope = scope
        """The ASGI scope."""
        self.receive = receive
        """The ASGI receive channel."""
        self.send = send
        """The ASGI send channel."""
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None
        self._state: State | None = None

    @property
    def app(self) -> App:
        """The trivium application serving this connection."""
        return self.scope["app"]  # type: ignore[no-any-return]

    @property
    def headers(self) -> Headers:
        """The request headers (case-insensitive)."""
        if self._headers is None:
            self._headers = Headers(raw=self.scope["headers"])
        return self._headers

    def header_value(self, name: str) -> str | None:
        """Return the first value of header `name`, or `None`.

        Cheaper than `headers.get(name)` when only one header is needed: on the RSGI
        path it reads the server's header map without converting the whole list.
        """
        return scope_header(self.scope, name)

    @property
    def query_params(self) -> QueryParams:
        """The query string parameters."""
        if self._query is None:
            self._query = QueryParams(self.scope.get("query_string", b""))
        return self._query

    @property
    def path_params(self) -> dict[str, Any]:
        """The parameters matched from the path, after converters."""
        return self.scope.get("path_params", {})  # type: ignore[no-any-return]

    @property
    def cookies(self) -> dict[str, str]:
        """The request cookies."""
        if self._cookies is None:
            cookies: dict[str, str] = {}
            for key, value in self.scope["headers"]:
                if key == b"cookie":
                    cookies.update(parse_cookie_header(value.decode("latin-1")))
            self._cookies = cookies
        return self._cookies

    @property
    def url(self) -> URL:
        """The full URL the client asked for."""
        if self._url is None:
            self._url = URL.from_scope(self.scope)
        return self._url

    @property
    def base_url(self) -> URL:
        """The URL of the application root (scheme, host and root path)."""
        root = self.scope.get("root_path", "")
        return self.url.replace(path=root.rstrip("/") + "/", query="", fragment="")

    @property
    def client(self) -> Address | None:
        """The peer's address, when the server knows it."""
        try:
            client = self.scope["client"]
        except KeyError:
            return None
        if not client:
            return None
        host, port = client
        # Granian's ASGI interface gives the port as a string (the spec says an int).
        return Address(host, port if type(port) is int else int(port))

    def scope_value(self, key: str, default: Any = None) -> Any:
        """Return the scope's entry `key` (`default` when absent).

        For request steps passing values from `before` to `after`, or to each other: on
        the RSGI path, a gate's connection answers it without building the ASGI scope.
        """
        return self.scope.get(key, default)

    def set_scope_value(self, key: str, value: Any) -> None:
        """Set the scope's entry `key` (see `scope_value`)."""
        self.scope[key] = value

    @property
    def state(self) -> State:
        """Per-connection state, shared by middleware, dependencies and the handler."""
        if self._state is None:
            self._state = State(self.scope.setdefault("state", {}))
        return self._state

    @property
    def session(self) -> MutableMapping[str, Any]:
        """The session of this client, set by `trivium.sessions.SessionMiddleware`.

        Raises:
            ConfigurationError: no session middleware runs in front of this route.
        """
        try:
            return self.scope["session"]  # type: ignore[no-any-return]
        except KeyError:
            raise _missing("session", "trivium.sessions.Sessions (or SessionMiddleware)") from None

    @property
    def user(self) -> Any:
        """The authenticated user (or an anonymous one), set by the auth middleware.

        Raises:
            ConfigurationError: no authentication middleware runs in front of this route.
        """
        try:
            return self.scope["user"]
        except KeyError:
            raise _missing("user", "trivium.auth.Auth (Auth.init_app)") from None

    @property
    def auth(self) -> Any:
        """How the request was authenticated (credentials, scopes), set by the auth middleware."""
        return self.scope.get("auth")

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        """Return the absolute URL of the route called `name`."""
        path = self.app.url_path_for(name, **path_params)
        root = self.scope.get("root_path", "")
        return self.url.replace(path=root + path, query="", fragment="")


class Request(HTTPConnection):
    """An HTTP request."""

    __slots__ = ("_body", "_form", "_json", "_stream_consumed", "limits")

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        *,
        limits: Limits | None = None,
    ) -> None:
        # `HTTPConnection.__init__` inline: a `Request` is made for every request of a
        # route with request steps, and the call through `super()` was a quarter of it.
        self.scope = scope
        self.receive = receive
        self.send = send
        self._headers = None
        self._query = None
        self._cookies = None
        self._url = None
        self._state = None
        self._body: bytes | None = None
        self._json: Any = _UNSET
        self._form: FormData | None = None
        self._stream_consumed = False
        if limits is None:
            limits = (
                DEFAULT_LIMITS
                if max_body_size == DEFAULT_MAX_BODY_SIZE
                else Limits(max_body_size=max_body_size)
            )
        self.limits = limits
        """The limits this request is held to (body size, JSON depth, forms)."""

    @property
    def max_body_size(self) -> int | None:
        """The largest body `body()`, `json()` and `stream()` accept, in bytes.

        A multipart form read by `form()` is held to `Limits.max_upload_size` instead:
        that limit follows what is parsed, never the `Content-Type` a client claims.
        """
        return self.limits.max_body_size

    @property
    def form_limits(self) -> FormLimits:
        """The limits applied while parsing a form."""
        return self.limits.form

    @property
    def method(self) -> str:
        """The request method, upper case."""
        return self.scope["method"]  # type: ignore[no-any-return]

    def stream(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive, enforcing `max_body_size`.

        Raises:
            HTTPException: 413 when the body is larger than allowed.
            ClientDisconnect: the client disconnected mid-body.
        """
        return self._chunks(self.limits.max_body_size)

    async def _chunks(self, limit: int | None) -> AsyncIterator[bytes]:
        """`stream()` held to `limit` bytes (`None`: no limit); a multipart form's reader."""
        if self._body is not None:
            if limit is not None and len(self._body) > limit:
                raise _too_large(limit)
            yield self._body
            return
        if self._stream_consumed:
            raise RuntimeError("the request body stream was already consumed")
        self._stream_consumed = True
        declared = self._declared_length()
        if limit is not None and declared is not None and declared > limit:
            raise _too_large(limit)
        received = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if limit is not None and received > limit:
                    raise _too_large(limit)
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return
            elif message["type"] == "http.disconnect":
                raise ClientDisconnect

    def _declared_length(self) -> int | None:
        value = self.header_value("content-length")
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise HTTPException(400, "Invalid Content-Length header") from None

    async def body(self) -> bytes:
        """Return the whole body (read once, then cached)."""
        if self._body is None and not self._stream_consumed:
            # A receive channel that can read the whole body in one call (RSGI's) does
            # so when its length is declared and acceptable; a wrapped one is streamed.
            read_all = getattr(self.receive, "read_all", None)
            if read_all is not None:
                declared = self._declared_length()
                limit = self.max_body_size
                if declared is not None and (limit is None or declared <= limit):
                    body: bytes | None = await read_all()
                    if body is not None:
                        self._stream_consumed = True
                        self._body = body
                        return body
        if self._body is None:
            chunks = [chunk async for chunk in self.stream()]
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        """Return the body decoded as JSON.

        Raises:
            HTTPException: 400 with a message saying where the JSON is malformed.
        """
        if self._json is _UNSET:
            body = await self.body()
            depth = self.limits.max_json_depth
            if depth is not None:
                check_json_depth(body, depth)
            try:
                self._json = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                try:
                    self._json = loads_long_integers(body)
                except ValueError:
                    check_content_encoding(self.headers.get("content-encoding"))
                    raise HTTPException(400, f"Malformed JSON body: {exc}") from None
        return self._json

    async def form(self) -> FormData:
        """Return the parsed form (urlencoded or multipart), files as `UploadFile`."""
        if self._form is None:
            from trivium.http._multipart import parse_form

            self._form = await parse_form(self)
        return self._form

    async def is_disconnected(self) -> bool:
        """Return whether the client has gone away (checks without blocking)."""
        import anyio

        message: Any = None
        with anyio.move_on_after(0.001):
            message = await self.receive()
        return bool(message and message.get("type") == "http.disconnect")

    async def close(self) -> None:
        """Release resources held by the request (uploaded files)."""
        if self._form is not None:
            await self._form.close()


class _Unset:
    __slots__ = ()


_UNSET: Any = _Unset()


def _missing(attribute: str, provider: str) -> ConfigurationError:
    return ConfigurationError(
        f"request.{attribute} needs {provider} in front of this route; install it on the app",
        f"{attribute}-not-installed",
    )


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"Request body exceeds the limit of {limit} bytes")
