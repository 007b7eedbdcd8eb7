"""RSGI, Granian's native interface, over the same compiled app as ASGI.

An RSGI call is turned into an ASGI-shaped scope (so routes, dependencies and
middleware are shared), with two shortcuts: when the app has no user middleware the
scope is completed lazily from the RSGI scope (`LazyScope`, kept under `"rsgi.scope"`),
and the `send` channel can write a fully rendered `Response` in one `response_bytes`
call (`respond`) instead of two ASGI messages; the receive channel likewise reads a
body of declared length in one call (`read_all`, in `_rsgi_body`). Everything else
(streaming, files, server-sent events, websockets, middleware) goes through small
ASGI-to-RSGI adapters, so behaviour is the same on both interfaces.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

from trivium.http._cookies import parse_cookie_header
from trivium.http._datastructures import Address
from trivium.http._datastructures import Headers
from trivium.http._datastructures import QueryParams
from trivium.http._limits import Limits
from trivium.http._paths import PATH_SAFE
from trivium.http._paths import quote_path
from trivium.protocols._authority import with_authority
from trivium.protocols._rsgi_body import body_error
from trivium.protocols._rsgi_body import rsgi_receive
from trivium.protocols._rsgi_websocket import websocket_adapters
from trivium.types import Message
from trivium.types import Scope

__all__ = [
    "LazyScope",
    "RSGIParams",
    "RSGISender",
    "client_address",
    "http_scope",
    "lazy_connection",
    "lazy_scope",
    "rsgi_receive",
    "rsgi_send",
    "send_finalized",
    "send_response",
    "websocket_adapters",
]

_ASGI = {"version": "3.0", "spec_version": "2.4"}


_SERVERS: dict[str, Address | None] = {}


def _address(value: str) -> Address | None:
    host, sep, port = value.rpartition(":")
    if not sep:
        return None
    try:
        return Address(host.strip("[]"), int(port))
    except ValueError:
        return None


def _server_address(value: str) -> Address | None:
    # A worker listens on a handful of addresses: parse each once.
    try:
        return _SERVERS[value]
    except KeyError:
        if len(_SERVERS) < 64:
            _SERVERS[value] = _address(value)
        return _address(value)


_CLIENTS: dict[str, Address | None] = {}


def client_address(value: str) -> Address | None:
    """The address of an RSGI scope's `client` (`"host:port"`), parsed once per address."""
    # A kept-alive connection sends many requests from one address: parse it once.
    try:
        return _CLIENTS[value]
    except KeyError:
        if len(_CLIENTS) >= 4096:
            _CLIENTS.clear()
        address = _CLIENTS[value] = _address(value)
        return address


# Granian hands the path over percent-decoded, and keeps no copy of the bytes sent. Quoted
# again, all but RFC 3986's `pchar`s and "/" (which clients send as they are), it gives
# back those bytes, except for a character of the set a client sent encoded (`%2F`).
_PATH_BYTES = (
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~" + PATH_SAFE.encode()
)


def _raw_path(path: str) -> bytes:
    raw = path.encode("utf-8")
    if raw.rstrip(_PATH_BYTES):  # something to quote: a "%", "?", space, non-ASCII...
        raw = quote_path(path).encode("ascii")
    return raw


_LAZY_KEYS = frozenset({"headers", "client", "server", "raw_path"})


class LazyScope(dict[str, Any]):
    """An ASGI scope whose costlier keys are built only when first read with `scope[key]`.

    Used on the RSGI fast path (no user middleware), where only trivium's own code sees
    the scope: `headers`, `client`, `server` and `raw_path` come from the RSGI scope on
    demand. `materialize()` fills them in before the scope is handed to other code.
    """

    __slots__ = ()

    def __missing__(self, key: str) -> Any:
        rsgi = dict.__getitem__(self, "rsgi.scope")
        if key == "headers":
            value: Any = _bytes_headers(rsgi.headers.items())
        elif key == "client":
            value = client_address(rsgi.client)
        elif key == "server":
            value = _server_address(rsgi.server)
        elif key == "raw_path":
            value = _raw_path(rsgi.path)
        else:
            raise KeyError(key)
        self[key] = value
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """`scope.get(key)`, lazy keys included (dict's own `get` would not build them)."""
        if key in _LAZY_KEYS:
            try:
                return self[key]
            except KeyError:  # pragma: no cover - every lazy key can be built
                return default
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        return key in _LAZY_KEYS or dict.__contains__(self, key)

    def materialize(self) -> dict[str, Any]:
        """Return a plain dict with every key present."""
        for key in _LAZY_KEYS:
            self[key]
        return dict(self)


class RSGIParams:
    """The parts of a request a parameter plan reads, straight from an RSGI scope.

    Path parameters (already matched), query parameters, headers, cookies and a JSON
    body of declared, acceptable length: what plain handlers need, without an ASGI
    scope or a `Request`.
    """

    __slots__ = ("_body", "_headers", "limits", "path_params", "protocol", "rsgi")

    def __init__(
        self, rsgi: Any, path_params: dict[str, Any] | None, protocol: Any, limits: Limits
    ) -> None:
        self.rsgi = rsgi
        self.path_params = path_params or {}
        self.protocol = protocol
        self.limits = limits
        self._headers: Headers | None = None
        self._body: bytes | None = None

    def header_value(self, name: str) -> str | None:
        value: str | None = self.rsgi.headers.get(name)
        return value

    async def body(self) -> bytes:
        # Only used once the caller checked Content-Length against the body limit.
        body = self._body
        if body is None:
            try:
                body = self._body = bytes(await self.protocol())
            except RuntimeError as exc:  # a client gone mid-body, a malformed chunk
                raise body_error(exc) from None
        return body

    @property
    def query_params(self) -> QueryParams:
        return QueryParams(self.rsgi.query_string)

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(raw=_bytes_headers(self.rsgi.headers.items()))
        return self._headers

    @property
    def cookies(self) -> dict[str, str]:
        cookies: dict[str, str] = {}
        for key, value in self.rsgi.headers.items():
            if key == "cookie":
                cookies.update(parse_cookie_header(value))
        return cookies


def lazy_connection(
    rsgi: Any, protocol: Any, app: Any
) -> tuple[LazyScope, Callable[[], Awaitable[Message]], RSGISender]:
    """Return the ASGI scope (lazily completed), `receive` and `send` of an RSGI request.

    For apps without user middleware: only trivium's own code sees the scope.
    """
    return (
        lazy_scope(rsgi, app),
        rsgi_receive(protocol, rsgi),
        rsgi_send(protocol, rsgi.method == "HEAD"),
    )


def lazy_scope(rsgi: Any, app: Any) -> LazyScope:
    """Return the lazily completed ASGI scope of an RSGI request (see `lazy_connection`)."""
    scope = LazyScope(
        {
            "type": "http",
            "asgi": _ASGI,
            "http_version": rsgi.http_version,
            "scheme": rsgi.scheme,
            "method": rsgi.method,
            "path": rsgi.path,
            "root_path": "",
            "query_string": rsgi.query_string.encode(),
            "rsgi.scope": rsgi,
            "app": app,
        }
    )
    state = app._lifespan_state
    if state:
        scope["state"] = dict(state)
    return scope


def with_route(scope: LazyScope, route: Any, params: dict[str, Any] | None) -> LazyScope:
    """Return `scope` (from `lazy_scope`) with the `route` matched and its path parameters."""
    scope["route"], scope["endpoint"] = route, route.endpoint
    if params:
        scope["path_params"] = params
    return scope


def http_scope(rsgi: Any, kind: str, state: dict[str, Any] | None) -> Scope:
    """Build the ASGI scope of an RSGI connection."""
    rsgi = with_authority(rsgi)
    path: str = rsgi.path
    # Granian hands header names over lower-cased already.
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in rsgi.headers.items()]
    scope: Scope = {
        "type": kind,
        "asgi": _ASGI,
        "http_version": rsgi.http_version,
        "scheme": rsgi.scheme if kind == "http" else ("wss" if rsgi.scheme == "https" else "ws"),
        "path": path,
        "raw_path": _raw_path(path),
        "root_path": "",
        "query_string": rsgi.query_string.encode(),
        "headers": headers,
        "client": _address(rsgi.client),
        "server": _server_address(rsgi.server),
    }
    if kind == "http":
        scope["method"] = rsgi.method
    else:
        protocols = [
            h.decode().strip()
            for k, v in headers
            if k == b"sec-websocket-protocol"
            for h in v.split(b",")
        ]
        scope["subprotocols"] = protocols
    if state is not None:
        scope["state"] = dict(state)
    return scope


# Most header pairs repeat from response to response (content types, small lengths,
# the app's default security headers): converting each distinct pair once saves work.
# The two converters below stay separate and inline: a shared helper taking a converter
# function cost ~15% of plaintext throughput on the RSGI path.
_TO_STR: dict[tuple[bytes, bytes], tuple[str, str]] = {}
_TO_BYTES: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_CACHE_LIMIT = 4096


def _str_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    out = []
    for pair in raw:
        converted = _TO_STR.get(pair)
        if converted is None:
            converted = (pair[0].decode("latin-1"), pair[1].decode("latin-1"))
            if len(_TO_STR) < _CACHE_LIMIT:
                _TO_STR[pair] = converted
        out.append(converted)
    return out


def _bytes_headers(items: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    out = []
    for pair in items:
        converted = _TO_BYTES.get(pair)
        if converted is None:
            converted = (pair[0].encode("latin-1"), pair[1].encode("latin-1"))
            if len(_TO_BYTES) < _CACHE_LIMIT:
                _TO_BYTES[pair] = converted
        out.append(converted)
    return out


def rsgi_send(protocol: Any, head_only: bool) -> RSGISender:
    """Return an ASGI `send` that writes through the RSGI protocol."""
    return RSGISender(protocol, head_only)


class RSGISender:
    """An ASGI `send` writing through Granian's RSGI protocol (`rsgi_send`).

    The caller runs the app with it and calls `abandon()` when the app fails.
    """

    __slots__ = ("finished", "head_only", "headers", "protocol", "status", "transport")

    def __init__(self, protocol: Any, head_only: bool) -> None:
        self.protocol = protocol
        self.head_only = head_only
        self.status = 200
        self.headers: list[tuple[str, str]] = []
        self.transport: Any = None
        self.finished = False

    def respond(self, response: Any, app: Any, fixed: int | None = None) -> None:
        """Write a rendered `response` in one call, the app's default headers added.

        The capability a route looks for on its `send` channel (see `send_finalized`
        for `fixed`); ASGI channels don't have it and get the response as messages.
        """
        self.finished = True
        send_finalized(self.protocol, response, self.head_only, app, fixed)

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            raw = message.get("headers", [])
            self.headers = _str_headers(raw)
            if not any(name.lower() == b"content-length" for name, _ in raw):
                # A stream (server-sent events, say) whose first chunk may be long in
                # coming: its headers go out once the app waits, as ASGI servers send
                # them at the start. A body sent at once still makes one response.
                import asyncio  # loaded by then (the server runs on it); not at import

                asyncio.get_running_loop().call_soon(self._open_stream)
        elif kind == "http.response.body" and not self.finished:
            await self._body(message)
        elif kind == "http.response.pathsend" and not self.finished:
            self.finished = True
            self.protocol.response_file(self.status, self.headers, message["path"])

    def abandon(self) -> None:
        """The app failed: end the stream it opened, and never open one now.

        Granian ends a stream when its transport is freed. The exception's traceback
        (frames referring to it) could keep ours until the cyclic collector ran, and the
        client waited for the rest of the body meanwhile; a stream not open yet leaves
        the failure to Granian, which answers 500.
        """
        self.finished = True
        self.transport = None

    def _open_stream(self) -> None:
        if self.transport is None and not self.finished:
            self.transport = self.protocol.response_stream(self.status, self.headers)

    async def _body(self, message: Message) -> None:
        body = message.get("body", b"")
        more = message.get("more_body", False)
        head_only = self.head_only
        if self.transport is None:
            if not more:
                self.finished = True
                if head_only or not body:
                    self.protocol.response_empty(self.status, self.headers)
                else:
                    self.protocol.response_bytes(self.status, self.headers, bytes(body))
                return
            self.transport = self.protocol.response_stream(self.status, self.headers)
        if body and not head_only:
            try:
                await self.transport.send_bytes(bytes(body))
            except RuntimeError as exc:
                from granian._granian import RSGIProtocolClosed

                if not isinstance(exc, RSGIProtocolClosed):
                    raise
                # The client left: raise what ASGI servers raise for a closed connection
                # (an `OSError`), which ends a streamed body quietly.
                self.abandon()
                raise ConnectionResetError("the client closed the connection") from None
        if not more:
            self.finished = True
            # Granian ends the stream when the transport is freed: drop our reference.
            self.transport = None


# Whole header lists repeat too (same handler, same body length): one tuple hash and one
# look-up then replace a loop over the pairs. Granian only reads the list it is given.
_LISTS_LIMIT = 256  # bounded: lists with per-response values (cookies) never repeat


def send_finalized(
    protocol: Any, response: Any, head_only: bool, app: Any, fixed: int | None = None
) -> None:
    """Add the app's default headers to a rendered response and write it in one call.

    The final list depends only on the response's own headers, so it is converted once
    per distinct list (kept per app, as apps differ in their default headers). `fixed`
    says how many leading pairs were there before the request steps' `after` ran: the
    pairs those add (a request ID, rate limit counts) differ from request to request,
    so they are converted on their own and the cache keeps serving the rest.
    """
    raw = response.raw_headers
    if fixed is not None and fixed < len(raw):
        names = app.policy.default_names
        tail: list[tuple[str, str]] | None
        if fixed + 1 == len(raw):  # one pair added (a request ID): no loop, no slice
            name, value = raw[fixed]
            tail = None if name in names else [(name.decode("latin-1"), value.decode("latin-1"))]
        else:  # several (rate limit counts): their pairs mostly repeat, so use the cache
            added = raw[fixed:]
            for name, _ in added:
                if name in names:
                    tail = None
                    break
            else:
                tail = _str_headers(added)
        if tail is not None:
            key = tuple(raw[:fixed])
            headers = app._rsgi_headers.get(key) or _finalized(app, key)
            # Granian reads the list during the call and keeps nothing: lend it the
            # cached list with the pairs added instead of copying it.
            size = len(headers)
            headers += tail
            try:
                if head_only or not response.body:
                    protocol.response_empty(response.status_code, headers)
                else:
                    protocol.response_bytes(response.status_code, headers, response.body)
            finally:
                del headers[size:]
            return
        # Otherwise a step set a default header itself: the whole list decides.
    # The bare route's path, inline: one tuple, one look-up.
    cache: dict[tuple[tuple[bytes, bytes], ...], list[tuple[str, str]]] = app._rsgi_headers
    key = tuple(raw)
    found = cache.get(key)
    headers = _finalized(app, key) if found is None else found
    if head_only or not response.body:
        protocol.response_empty(response.status_code, headers)
    else:
        protocol.response_bytes(response.status_code, headers, response.body)


def _finalized(app: Any, key: tuple[tuple[bytes, bytes], ...]) -> list[tuple[str, str]]:
    """The RSGI header list of raw pairs `key` with the app's default headers, cached."""
    cache: dict[tuple[tuple[bytes, bytes], ...], list[tuple[str, str]]] = app._rsgi_headers
    headers = cache.get(key)
    if headers is None:
        headers = _str_headers(app.policy.with_defaults(list(key)))
        if len(cache) < _LISTS_LIMIT:
            cache[key] = headers
    return headers


def send_response(protocol: Any, response: Any, head_only: bool) -> None:
    """Write a rendered response whose headers are final, without caching its header list."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
    if head_only or not response.body:
        protocol.response_empty(response.status_code, headers)
    else:
        protocol.response_bytes(response.status_code, headers, response.body)
