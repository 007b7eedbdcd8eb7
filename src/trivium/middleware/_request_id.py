"""Give every request an ID: accepted from the client (or a proxy) or generated.

The ID goes to `scope["state"]["request_id"]` (`request.state.request_id`), back to the
client in the response header, and into a context variable for the duration of the
request, so `RequestIDLogFilter` can stamp it on every log record emitted while the
request is served — in the handler, its dependencies and worker threads alike (anyio
copies the context into threads).

An incoming ID is accepted only if it is short and made of safe characters; anything else
is replaced, so a client cannot inject line breaks or megabytes into your logs.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from trivium.errors import ConfigurationError
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["RequestIDLogFilter", "RequestIDMiddleware", "current_request_id"]

_current: ContextVar[str | None] = ContextVar("trivium_request_id", default=None)
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]+$")


def current_request_id() -> str | None:
    """Return the ID of the request being served in this context, if any."""
    return _current.get()


class RequestIDLogFilter(logging.Filter):
    """Add `record.request_id` to log records (`default` outside a request).

    Attach it to a handler and use `%(request_id)s` in the format::

        handler.addFilter(RequestIDLogFilter())
        handler.setFormatter(logging.Formatter("%(request_id)s %(levelname)s %(message)s"))
    """

    def __init__(self, name: str = "", default: str = "-") -> None:
        super().__init__(name)
        self.default = default
        """What `request_id` holds for records logged outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp the current request ID on `record`; never drops a record."""
        record.request_id = _current.get() or self.default
        return True


class RequestIDMiddleware:
    """Accept or generate a request ID, expose it to the app and logs, and echo it.

    Args:
        app: the ASGI app to wrap.
        header: the request and response header carrying the ID.
        trust_incoming: accept a well-formed ID sent by the client or a proxy; with
            `False` an ID is always generated.
        max_length: the longest incoming ID accepted (1-200 characters of letters,
            digits and `-_.:+/=`).

    Raises:
        ConfigurationError: the header name or `max_length` is invalid
            (`request-id-option`).
    """

    __slots__ = ("app", "header", "pattern", "trust_incoming")

    def __init__(
        self,
        app: ASGIApp,
        header: str = "x-request-id",
        trust_incoming: bool = True,
        max_length: int = 128,
    ) -> None:
        name = header.strip().lower()
        if not _HEADER_NAME.match(name):
            raise ConfigurationError(f"invalid header name {header!r}", "request-id-option")
        if not 1 <= max_length <= 200:
            raise ConfigurationError(
                f"max_length must be between 1 and 200, not {max_length}", "request-id-option"
            )
        self.app = app
        self.header = name.encode("latin-1")
        self.trust_incoming = trust_incoming
        self.pattern = re.compile(rb"[A-Za-z0-9._:+/=-]{1,%d}" % max_length)

    def incoming(self, scope: Scope) -> str | None:
        """Return the well-formed ID the request carries, if any and if trusted."""
        if not self.trust_incoming:
            return None
        for key, value in scope["headers"]:
            if key == self.header:
                return value.decode("ascii") if self.pattern.fullmatch(value) else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its ID set in the scope state and the logging context."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = self.incoming(scope) or uuid.uuid4().hex
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["request_id"] = request_id
        token = _current.set(request_id)
        try:
            if scope["type"] == "http":
                await self.app(scope, receive, _EchoSend(send, self.header, request_id))
            else:
                await self.app(scope, receive, send)
        finally:
            _current.reset(token)


class _EchoSend:
    __slots__ = ("header", "send", "value")

    def __init__(self, send: Send, header: bytes, value: str) -> None:
        self.send = send
        self.header = header
        self.value = value.encode("ascii")

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            if all(name.lower() != self.header for name, _ in headers):
                headers.append((self.header, self.value))
            message["headers"] = headers
        await self.send(message)
