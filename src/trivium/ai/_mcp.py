"""The MCP plugin: curated routes as tools and resources, served at `/mcp`.

The `mcp` SDK's low-level `Server` and its Streamable HTTP session manager (stateless:
no per-process session state, so any worker answers any request) handle the protocol;
this module decides which routes are tools, who may see and call them, and runs each
call in-process through the app's own pipeline (`_mcp_dispatch`).

The endpoint is a route (not a mount), so a static `/mcp` wins over catch-all routes
such as an SPA's `/{full_path:path}`. Its handler hands the connection to the SDK's
transport after checking the host and origin (`_mcp_origin`) and the caller's identity.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from trivium.ai._mcp_catalogue import McpTool
from trivium.ai._mcp_catalogue import Resource
from trivium.ai._mcp_catalogue import Target
from trivium.ai._mcp_catalogue import collect
from trivium.ai._mcp_catalogue import selection
from trivium.ai._mcp_catalogue import targets
from trivium.ai._mcp_dispatch import Caller
from trivium.ai._mcp_dispatch import Outcome
from trivium.ai._mcp_dispatch import dispatch
from trivium.ai._mcp_jsonrpc import buffered
from trivium.ai._mcp_jsonrpc import invalid_request
from trivium.ai._mcp_jsonrpc import problem
from trivium.ai._mcp_marks import Prompt
from trivium.ai._mcp_marks import option_settings
from trivium.ai._mcp_origin import OriginPolicy
from trivium.ai._mcp_paths import TargetGuard
from trivium.ai._mcp_paths import may_overlap
from trivium.ai._mcp_paths import segments
from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.http import Request
from trivium.http import Response
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.routing import Route
from trivium.routing import Router

if TYPE_CHECKING:
    from trivium.app import App

__all__ = ["FORBIDDEN", "MCP", "UNAUTHENTICATED", "McpTool"]

UNAUTHENTICATED = -32001
"""JSON-RPC error code of a tool call refused for want of (valid) credentials."""
FORBIDDEN = -32003
"""JSON-RPC error code of a tool call the caller's identity may not make."""

_PROBE_PATH = "/_trivium/mcp-probe"
_PROBE_KEY = "trivium.mcp.probe"
_METADATA_PATH = "/.well-known/oauth-protected-resource"
# The methods of Streamable HTTP. Only POST is served (stateless: no stream of server
# messages to GET, no session to DELETE); the others are answered 405 by the endpoint
# rather than by the router, so a catch-all GET route never takes them.
_METHODS = ("GET", "POST", "DELETE")
_NOT_ALLOWED = {
    "detail": "the MCP endpoint is stateless: it has no stream of server messages to GET "
    "and no session to DELETE; send JSON-RPC requests with POST"
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Call:
    """What the current MCP HTTP request's tool calls run with."""

    caller: Caller
    refused: Mapping[str, tuple[int, str]]
    """Tools the caller's identity may not use: the guard's status (401/403) and why."""


_CALL: contextvars.ContextVar[_Call] = contextvars.ContextVar("trivium_mcp_call")


class MCP(Plugin):
    """An MCP server of the routes marked `mcp=True` (or `@mcp.tool`), at `path`.

    Args:
        path: where the Streamable HTTP endpoint is served.
        name: the server name announced to clients (default: the app's title).
        version: the server version announced to clients.
        instructions: guidance for the model, sent at discovery.
        prompts: prompt templates offered (`Prompt(...)`).
        require_auth: answer 401 to MCP requests without valid credentials (default:
            when `trivium.auth` with JWT is installed).
        authorization_servers: issuer URLs of the OAuth 2.1 authorization servers listed
            in the protected-resource metadata (default: this app's origin).
        resource: the resource identifier: the audience (`aud`) tokens must carry on
            the MCP endpoint (default: `JWTConfig.audience`, else the endpoint's URL).
        json_response: answer with JSON instead of an SSE stream (no progress).
        allowed_hosts: host names (`"mcp.example.com"`, `"*.example.com"`, `"*"` for
            any) the endpoint answers besides loopback ones, when the app has no
            `TrustedHostMiddleware` listing its names (DNS rebinding protection).
        allowed_origins: browser origins (`"https://app.example.com"`) allowed besides
            the endpoint's own.

    Raises:
        ConfigurationError: a bad path, prompt list, host or origin.
    """

    route_options = ("mcp",)

    def __init__(  # noqa: PLR0913 - keyword-only settings
        self,
        path: str = "/mcp",
        *,
        name: str | None = None,
        version: str = "",
        instructions: str | None = None,
        prompts: Sequence[Prompt] = (),
        require_auth: bool | None = None,
        authorization_servers: Sequence[str] = (),
        resource: str | None = None,
        json_response: bool = False,
        allowed_hosts: Sequence[str] = (),
        allowed_origins: Sequence[str] = (),
    ) -> None:
        if not path.startswith("/") or path.endswith("/") or len(path) < 2:
            raise ConfigurationError(
                f"MCP(path={path!r}) must start with / and not end with one", "mcp-path"
            )
        names = [p.name for p in prompts]
        if any(not isinstance(p, Prompt) for p in prompts) or len(set(names)) != len(names):
            raise ConfigurationError(
                "MCP(prompts=...) takes Prompt(...) objects with distinct names", "mcp-prompt"
            )
        self.path = path
        self.name = name
        self.version = version
        self.instructions = instructions
        self.prompts = {p.name: p for p in prompts}
        self.require_auth = require_auth
        self.authorization_servers = tuple(authorization_servers)
        self.resource = resource
        self.json_response = json_response
        self.origins = OriginPolicy(allowed_hosts, allowed_origins)
        """The hosts and browser origins the endpoint answers."""
        self.tools: dict[str, McpTool] = {}
        """The tools by name (filled at start-up, or by `catalogue()`)."""
        self.resources: list[Resource] = []
        """The resources and resource templates (filled with the tools)."""
        self._app: App | None = None
        self._manager: Any = None
        self._catalogued = False
        self._jwt: Any = None
        self._metadata_served = False
        self._extra_audience: str | None = None
        self._selected: list[tuple[Route, dict[str, Any]]] | None = None
        self._targets: list[Target] | None = None

    # -- plugin hooks -----------------------------------------------------------------

    def setup(self, app: App) -> None:
        """Remember the app (tool calls run through it)."""
        self._app = app

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """Check the route's `mcp=` option; guard the routes a tool's path may reach.

        A route that may match a path of a tool's (or resource's) route, and answers one
        of its methods, gets a `TargetGuard`: a tool call's request that the router
        gives it instead of the tool's route is refused. Other routes get no step.
        """
        if "mcp" in route.options:
            option_settings(route.options["mcp"], f"route {route.path!r}")
        if route.websocket or route.fallback or self._app is None:
            return ()
        shape = segments(route.path)
        methods = set(route.methods)
        for target, target_shape, target_methods in self._overlaps(self._app):
            if target.path == route.path and target.endpoint is route.endpoint:
                continue
            if not methods.isdisjoint(target_methods) and may_overlap(target_shape, shape):
                return (TargetGuard(route.path, route.endpoint),)
        return ()

    def routes(self, app: App) -> Sequence[Any]:
        """Return the endpoint, the identity probe and the protected-resource metadata."""
        # The probe runs with every MCP request: it spends none of the caller's budget.
        limited = any("rate_limit" in plugin.route_options for plugin in app.plugins_of(Plugin))
        probe = Router(rate_limit=False) if limited else Router()
        probe.add_route(
            _PROBE_PATH, self._probe, ["GET"], name="mcp_probe", include_in_schema=False
        )
        router = Router()
        self._metadata_served = bool(self._auth_jwt(app) or self.authorization_servers)
        if self._metadata_served:
            for metadata_path in (_METADATA_PATH, _METADATA_PATH + self.path):
                router.add_route(
                    metadata_path,
                    self._metadata,
                    ["GET"],
                    include_in_schema=False,
                )
        router.add_route(
            self.path, self._exchange, list(_METHODS), name="mcp", include_in_schema=False
        )
        return [probe, router]

    def lifespan(self, app: App) -> contextlib.AbstractAsyncContextManager[None]:
        """Check the tools and start the SDK's session manager."""
        return self._serve(app)

    def cli_commands(self) -> Sequence[Any]:
        """`trivium mcp list`."""
        from trivium.ai._mcp_cli import mcp_group

        return [mcp_group]

    # -- catalogue --------------------------------------------------------------------

    def catalogue(self, app: App) -> dict[str, McpTool]:
        """Collect the marked routes as tools and resources (once).

        Raises:
            ConfigurationError: a bad `mcp=` option, a tool name that is invalid (over
                64 characters) or taken twice, a tool route taking file uploads, a
                resource route that is not GET or whose URI template does not name its
                path parameters, two resources of one URI, or a JWT without an audience while MCP requires
                authentication.
        """
        if self._catalogued:
            return self.tools
        app.build()
        self.tools, self.resources = collect(app, self._selection(app))
        self._check_auth(app)
        self._catalogued = True
        return self.tools

    def _selection(self, app: App) -> list[tuple[Route, dict[str, Any]]]:
        if self._selected is None:
            self._selected = selection(app)
        return self._selected

    def _overlaps(self, app: App) -> list[Target]:
        if self._targets is None:
            self._targets = targets(self._selection(app))
        return self._targets

    @staticmethod
    def _auth_plugin(app: App) -> Any:
        try:
            from trivium.auth import Auth
        except ImportError:  # pragma: no cover - the auth extra is missing
            return None
        found = app.plugins_of(Auth)
        return found[0] if found else None

    def _auth_jwt(self, app: App) -> bool:
        auth = self._auth_plugin(app)
        return auth is not None and getattr(auth.config, "jwt", None) is not None

    def _check_auth(self, app: App) -> None:
        auth = self._auth_plugin(app)
        jwt = getattr(auth.config, "jwt", None) if auth is not None else None
        self._jwt = jwt
        if self.require_auth is None:
            self.require_auth = jwt is not None
        if self.require_auth and auth is None:
            raise ConfigurationError(
                "MCP(require_auth=True) needs trivium.auth: install Auth(...) first",
                "mcp-auth",
            )
        if jwt is not None and not jwt.audience and (self.require_auth or self.resource):
            raise ConfigurationError(
                "MCP with JWT authentication needs audience-bound tokens: set "
                "JWTConfig(audience=...) to this server's resource URL (MCP(resource=...) "
                "alone cannot bind them: without an audience, trivium.auth refuses every "
                "token that names one)",
                "mcp-audience",
            )
        if self.resource is None and jwt is not None:
            self.resource = jwt.audience
        if jwt is not None and self.resource and self.resource != jwt.audience:
            self._extra_audience = self.resource

    # -- serving ----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _serve(self, app: App) -> AsyncIterator[None]:
        from trivium.ai._mcp_server import build_server

        self.catalogue(app)
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

        server = build_server(self, app)
        manager = StreamableHTTPSessionManager(
            server, stateless=True, json_response=self.json_response
        )
        async with manager.run():
            self._manager = manager
            try:
                yield None
            finally:
                self._manager = None

    async def _exchange(self) -> Response:
        """The MCP endpoint (a route): the SDK's transport answers the connection."""
        return _Exchange(self._endpoint, self._app)

    async def _endpoint(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve one MCP HTTP request (ASGI): host, origin and caller checks, then the SDK."""
        manager = self._manager
        app = self._app
        if manager is None or app is None:
            await _answer(send, 503, {"detail": "the MCP server is not started (lifespan)"})
            return
        refusal = self.origins.refusal(scope)
        if refusal is not None:
            await _answer(send, 403, {"detail": refusal})
            return
        if scope.get("method") != "POST":
            # The SDK would hold a GET open with pings alone, delaying server shutdown.
            await _answer(send, 405, _NOT_ALLOWED, [(b"allow", b"POST")])
            return
        caller = Caller.from_scope(scope)
        probe = await dispatch(app, caller, "GET", _PROBE_PATH, extra_scope={_PROBE_KEY: self})
        if probe.status == 401:
            await self._challenge(scope, send, probe)
            return
        if probe.status != 200:
            await _answer(send, probe.status, _json(probe) or {"detail": "refused"})
            return
        seen = json.loads(probe.body)
        if self.require_auth and not seen["authenticated"]:
            await self._challenge(scope, send, None)
            return
        if scope.get("method") == "POST":
            body, receive = await buffered(receive)
            reason = problem(body)
            if reason is not None:
                await _answer(send, 400, invalid_request(reason))
                return
        refused = {name: (status, why) for name, (status, why) in seen["refused"].items()}
        token = _CALL.set(_Call(caller, refused))
        try:
            await manager.handle_request(scope, receive, send)
        finally:
            _CALL.reset(token)

    async def _challenge(self, scope: Any, send: Any, probe: Outcome | None) -> None:
        """Answer 401 with the challenge of the credential's scheme (`Bearer` by default).

        A `Bearer` challenge links the protected-resource metadata when it is served
        (JWT enabled, or `authorization_servers` given).
        """
        challenge = (probe.header("www-authenticate") if probe is not None else None) or "Bearer"
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "bearer":
            parts = [params.strip()] if params.strip() else []
            if probe is not None and "error=" not in params:
                parts.append('error="invalid_token"')  # the probe refused the credential
            if self._metadata_served:
                parts.insert(0, f'resource_metadata="{self._metadata_url(scope)}"')
            challenge = " ".join(["Bearer", ", ".join(parts)]).strip()
        body = (_json(probe) if probe is not None else None) or {
            "detail": "Not authenticated: send an access token (Authorization: Bearer ...)"
        }
        await _answer(send, 401, body, [(b"www-authenticate", challenge.encode("latin-1"))])

    def _origin(self, scope: Mapping[str, Any]) -> str:
        host = next(
            (v.decode("latin-1") for k, v in scope.get("headers", ()) if k.lower() == b"host"),
            None,
        )
        if host is None:
            server = scope.get("server") or ("localhost", 80)
            host = f"{server[0]}:{server[1]}"
        return f"{scope.get('scheme', 'http')}://{host}"

    def _base(self, scope: Mapping[str, Any]) -> str:
        """The app's own URL: origin and `root_path` (a proxy's prefix)."""
        return self._origin(scope) + str(scope.get("root_path", "")).rstrip("/")

    def _metadata_url(self, scope: Mapping[str, Any]) -> str:
        return self._base(scope) + _METADATA_PATH + self.path

    async def _metadata(self, request: Request) -> dict[str, Any]:
        """RFC 9728 protected-resource metadata of the MCP endpoint."""
        scopes: set[str] = set()
        for tool in self.tools.values():
            scopes.update(tool.scopes)
        document: dict[str, Any] = {
            "resource": self.resource or self._base(request.scope) + self.path,
            "authorization_servers": list(
                self.authorization_servers or (self._origin(request.scope),)
            ),
            "bearer_methods_supported": ["header"],
            "scopes_supported": sorted(scopes),
        }
        if self.name:
            document["resource_name"] = self.name
        return document

    async def _probe(self, request: Request) -> dict[str, Any]:
        """Say who the MCP caller is and which tools its identity may not use."""
        if request.scope.get(_PROBE_KEY) is not self:
            raise HTTPException(404, "Not Found")
        user = request.scope.get("user")
        info = request.scope.get("auth")
        if self._extra_audience is not None and getattr(info, "method", None) == "jwt":
            self._check_audience(request, self._extra_audience)
        refused: dict[str, list[Any]] = {}
        for name, tool in self.tools.items():
            for guard in tool.guards:
                try:
                    await guard(request)
                except HTTPException as exc:
                    refused[name] = [exc.status_code, str(exc.detail)]
                    break
        return {
            "authenticated": bool(getattr(user, "is_authenticated", False)),
            "refused": refused,
        }

    def _check_audience(self, request: Request, resource: str) -> None:
        """Refuse (401) a JWT whose audience does not include `resource`."""
        from trivium.auth import InvalidTokenError

        kind, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
        try:
            claims = self._jwt.decode(token.strip()) if kind.lower() == "bearer" else {}
        except InvalidTokenError:
            claims = {}
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or ())
        if resource not in audiences:
            raise HTTPException(
                401,
                f"the token is not for this MCP server: its audience (aud) must include "
                f"{resource!r}",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )

    # -- calls (used by the SDK server's handlers) -----------------------------------

    def visible(self) -> list[McpTool]:
        """The tools the current caller may use."""
        current = _CALL.get(None)
        refused = current.refused if current is not None else {}
        return [tool for name, tool in self.tools.items() if name not in refused]

    def current(self) -> _Call:
        """The current MCP request's caller."""
        current = _CALL.get(None)
        return current if current is not None else _Call(Caller(()), {})


class _Exchange(Response):
    """The MCP route's answer: the plugin's endpoint serves the connection itself."""

    __slots__ = ("app", "serve")

    def __init__(self, serve: Callable[[Any, Any, Any], Awaitable[None]], app: App | None) -> None:
        super().__init__()
        self.raw_headers = []  # only what the route's steps add (`RateLimit-*`...)
        self.serve = serve
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve the MCP request, with the steps' and the app's default headers on it."""
        materialize = getattr(scope, "materialize", None)  # a protocol's lazy scope
        if materialize is not None:
            scope = materialize()
        app = self.app
        added = self.raw_headers

        async def with_defaults(message: Any) -> None:
            if message["type"] == "http.response.start":
                if added:
                    headers = list(message.get("headers", ()))
                    present = {bytes(name).lower() for name, _ in headers}
                    headers += [pair for pair in added if pair[0].lower() not in present]
                    message = {**message, "headers": headers}
                if app is not None:
                    app.policy.add_defaults(message)
            await send(message)

        await self.serve(scope, receive, with_defaults)


def _json(outcome: Outcome | None) -> Any:
    if outcome is None or not outcome.body:
        return None
    try:
        return json.loads(outcome.body)
    except ValueError:
        return {"detail": outcome.body.decode("utf-8", "replace")}


async def _answer(
    send: Any, status: int, body: Any, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
