"""Run a route in-process: an in-memory HTTP request through the app's own pipeline.

No socket and no loopback: the request is an ASGI scope handed to the app, so routing,
the plugins' request steps (authentication, rate limits), dependency injection,
validation, guards and serialization all run exactly as for a request from the network.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote
from urllib.parse import unquote
from urllib.parse import urlencode

import anyio

__all__ = ["Caller", "Outcome", "dispatch"]

_log = logging.getLogger("trivium.ai.mcp")

# Headers of the MCP request that are not the inner request's: the transport's own
# (content negotiation, MCP session/version) and cookies (an MCP client authenticates
# with a token; a cookie session on a forged in-memory POST would bypass CSRF).
_DROPPED = frozenset(
    {
        b"content-length",
        b"content-type",
        b"accept",
        b"accept-encoding",
        b"cookie",
        b"transfer-encoding",
        b"connection",
        b"last-event-id",
    }
)


@dataclasses.dataclass(frozen=True, slots=True)
class Caller:
    """The MCP HTTP request a tool call comes from (its credentials and connection)."""

    headers: tuple[tuple[bytes, bytes], ...]
    scheme: str = "http"
    server: tuple[str, int] | None = None
    client: tuple[str, int] | None = None
    state: Mapping[str, Any] | None = None
    root_path: str = ""
    """The prefix the app is served under (a proxy's), which the inner request keeps."""

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any]) -> Caller:
        """Return the caller of an ASGI HTTP scope (its forwardable headers)."""
        headers = tuple(
            (key.lower(), value)
            for key, value in scope.get("headers", ())
            if key.lower() not in _DROPPED and not key.lower().startswith(b"mcp-")
        )
        return cls(
            headers,
            scope.get("scheme", "http"),
            scope.get("server"),
            scope.get("client"),
            scope.get("state"),
            scope.get("root_path", ""),
        )


@dataclasses.dataclass(slots=True)
class Outcome:
    """The inner response: status, headers, body chunks."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = dataclasses.field(default_factory=list)
    chunks: list[bytes] = dataclasses.field(default_factory=list)

    @property
    def body(self) -> bytes:
        """The whole body."""
        return b"".join(self.chunks)

    def header(self, name: str) -> str | None:
        """Return a response header's value (first one)."""
        key = name.lower().encode("latin-1")
        for k, v in self.headers:
            if k.lower() == key:
                return v.decode("latin-1")
        return None


async def dispatch(  # noqa: PLR0913 - one request's parts
    app: Callable[..., Awaitable[None]],
    caller: Caller,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    content_type: str | None = None,
    on_chunk: Callable[[bytes], Awaitable[None]] | None = None,
    extra_scope: Mapping[str, Any] | None = None,
) -> Outcome:
    """Run `method path` through `app` in memory and return its response.

    `path` is the request target's path, percent-encoded (as a client sends it): the
    inner request's `path` is its decoded form, as a server hands it over, and both are
    prefixed with the caller's `root_path`. `on_chunk` sees each body chunk of a
    streamed response as it is sent.
    """
    headers = [*caller.headers, (b"accept", b"application/json")]
    if body is not None:
        headers.append((b"content-type", (content_type or "application/json").encode()))
        headers.append((b"content-length", str(len(body)).encode()))
    root = caller.root_path
    raw_path = quote(root, safe="/:@!$&'()*+,;=") + path
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": caller.scheme,
        "path": root + unquote(path),
        "raw_path": raw_path.encode("ascii"),
        "root_path": root,
        "query_string": urlencode(list(query)).encode("ascii"),
        "headers": headers,
        "server": caller.server,
        "client": caller.client,
        "extensions": {},
    }
    if caller.state is not None:
        scope["state"] = dict(caller.state)
    if extra_scope:
        scope.update(extra_scope)
    pending = [body or b""]
    outcome = Outcome()

    async def receive() -> dict[str, Any]:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        # The caller stays connected until the response is complete: a streaming
        # response listening for a disconnect must not stop early.
        await anyio.sleep_forever()
        return {"type": "http.disconnect"}  # pragma: no cover - never reached

    async def send(message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            outcome.status = message["status"]
            outcome.headers = list(message.get("headers", ()))
        elif kind == "http.response.body":
            chunk = message.get("body", b"")
            if chunk:
                outcome.chunks.append(chunk)
                if on_chunk is not None and message.get("more_body", False):
                    await on_chunk(chunk)

    try:
        await app(scope, receive, send)
    except Exception:  # noqa: BLE001 - the app answered 500, re-raised for the server to log
        _log.exception("MCP call of %s %s failed", method, path)
        outcome.status = max(outcome.status, 500)
    return outcome
