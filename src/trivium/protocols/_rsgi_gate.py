"""`GateConnection`: what the gates of a gated route get on the RSGI fast path.

A gate reads the request's address, headers and URL, and answers; the ASGI scope
behind `HTTPConnection` costs more than that on a route doing little else, so this
connection builds it only when something reads `scope` (a gate reading the URL, a
fallback to `Route.handle`), and answers `client` and `header_value` straight from
Granian's scope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from trivium.http._request import HTTPConnection
from trivium.protocols._rsgi import client_address
from trivium.protocols._rsgi import lazy_scope
from trivium.protocols._rsgi import with_route

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.http._datastructures import Address
    from trivium.routing._route import Route
    from trivium.types import Scope

__all__ = ["GateConnection"]


# The keys a built scope has: entries of these are read and written on the scope itself.
_SCOPE_KEYS = frozenset(
    {
        "type",
        "asgi",
        "http_version",
        "scheme",
        "method",
        "path",
        "root_path",
        "query_string",
        "headers",
        "client",
        "server",
        "raw_path",
        "state",
        "app",
        "route",
        "endpoint",
        "path_params",
        "rsgi.scope",
        "extensions",
    }
)


class GateConnection(HTTPConnection):
    """An `HTTPConnection` over an RSGI scope, its ASGI scope built on first use."""

    __slots__ = ("_app", "_built", "_params", "_pending", "_route", "_rsgi")

    def __init__(self, rsgi: Any, app: App, route: Route, params: dict[str, Any] | None) -> None:
        self._rsgi = rsgi
        self._app = app
        self._route = route
        self._params = params
        self._pending: dict[str, Any] | None = None
        self._built: Scope | None = None
        self.receive = _no_receive
        self.send = None
        self._headers = self._query = self._cookies = self._url = self._state = None

    @property
    def scope(self) -> Scope:
        """The ASGI scope, built on first use (see `lazy_scope`)."""
        scope = self._built
        if scope is None:
            scope = lazy_scope(self._rsgi, self._app)
            scope = self._built = with_route(scope, self._route, self._params)
            if self._pending:
                scope.update(self._pending)
            self._pending = None
        return scope

    @scope.setter
    def scope(self, value: Scope) -> None:
        self._built = value

    def scope_value(self, key: str, default: Any = None) -> Any:
        """Return the scope's entry `key`, without building the scope for it."""
        if key in _SCOPE_KEYS:  # one of the scope's own: the scope answers
            return self.scope.get(key, default)
        pending = self._pending
        if pending is not None:
            return pending.get(key, default)
        scope = self._built
        return default if scope is None else scope.get(key, default)

    def set_scope_value(self, key: str, value: Any) -> None:
        """Set the scope's entry `key`, kept aside until something builds the scope."""
        if key in _SCOPE_KEYS:
            self.scope[key] = value
        elif self._built is not None:
            self._built[key] = value
        elif self._pending is None:
            self._pending = {key: value}
        else:
            self._pending[key] = value

    @property
    def app(self) -> App:
        """The trivium application serving this connection."""
        return self._app

    @property
    def client(self) -> Address | None:
        """The peer's address (parsed once per address)."""
        return client_address(self._rsgi.client)

    def header_value(self, name: str) -> str | None:
        """Return the first value of header `name`, or `None`."""
        value: str | None = self._rsgi.headers.get(name)
        return value


async def _no_receive() -> Any:
    """The receive channel of a gate's connection: a gate never reads the body."""
    raise RuntimeError("a Gate read the request body; gates read only what arrived with it")
