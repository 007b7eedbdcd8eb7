"""The MCP plugin: curated routes as tools and resources, served at `/mcp`.

The `mcp` SDK's low-level `Server` and its Streamable HTTP session manager (stateless:
no per-process session state, so any worker answers any request) handle the protocol;
this module decides which routes are tools, who may see and call them, and runs each
call in-process through the app's own pipeline (`_mcp_dispatch`).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
import re
from collections.abc import AsyncIterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from trivium.ai._mcp_dispatch import Caller
from trivium.ai._mcp_dispatch import Outcome
from trivium.ai._mcp_dispatch import dispatch
from trivium.ai._mcp_marks import MARK
from trivium.ai._mcp_marks import Prompt
from trivium.ai._mcp_marks import option_settings
from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.http import Request
from trivium.plugins import Plugin
from trivium.plugins import RouteNeeds
from trivium.routing import Route
from trivium.routing import Router

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.openapi import Tool

__all__ = ["FORBIDDEN", "MCP", "UNAUTHENTICATED", "McpTool"]

UNAUTHENTICATED = -32001
"""JSON-RPC error code of a tool call refused for want of (valid) credentials."""
FORBIDDEN = -32003
"""JSON-RPC error code of a tool call the caller's identity may not make."""

_PROBE_PATH = "/_trivium/mcp-probe"
_PROBE_KEY = "trivium.mcp.probe"
_METADATA_PATH = "/.well-known/oauth-protected-resource"


@dataclasses.dataclass(frozen=True, slots=True)
class McpTool:
    """One route offered as an MCP tool."""

    tool: Tool
    """The tool's name, description, schemas and argument locations."""
    route: Route
    """The route a call runs."""
    guards: tuple[Any, ...]
    """The `trivium.auth` guards among the route's dependencies (for `tools/list`)."""
    title: str | None = None
    wrapped_output: bool = False
    """The response is not a JSON object: structured content is `{"result": ...}`."""

    @property
    def scopes(self) -> frozenset[str]:
        """The token scopes the route's guards require."""
        found: set[str] = set()
        for guard in self.guards:
            found.update(getattr(guard, "scopes", ()))
        return frozenset(found)


@dataclasses.dataclass(frozen=True, slots=True)
class _Resource:
    uri: str
    name: str
    description: str | None
    mime_type: str | None
    route: Route
    pattern: re.Pattern[str]
    template: bool


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
        resource: the resource identifier (the audience tokens must carry; default:
            `JWTConfig.audience`).
        json_response: answer with JSON instead of an SSE stream (no progress).

    Raises:
        ConfigurationError: a bad path or prompt list.
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
        self.tools: dict[str, McpTool] = {}
        """The tools by name (filled at start-up, or by `catalogue()`)."""
        self.resources: list[_Resource] = []
        self._app: App | None = None
        self._manager: Any = None
        self._catalogued = False
        self._jwt = False

    # -- plugin hooks -----------------------------------------------------------------

    def setup(self, app: App) -> None:
        """Remember the app (tool calls run through it)."""
        self._app = app

    def request_steps(self, route: RouteNeeds) -> Sequence[Any]:
        """Check the route's `mcp=` option (no step: the option only marks the route)."""
        if "mcp" in route.options:
            option_settings(route.options["mcp"], f"route {route.path!r}")
        return ()

    def routes(self, app: App) -> Sequence[Any]:
        """Return the endpoint, the identity probe and the protected-resource metadata."""
        from trivium.routing import Mount

        router = Router()
        router.add_route(
            _PROBE_PATH, self._probe, ["GET"], name="mcp_probe", include_in_schema=False
        )
        if self._auth_jwt(app) or self.authorization_servers:
            for metadata_path in (_METADATA_PATH, _METADATA_PATH + self.path):
                router.add_route(
                    metadata_path,
                    self._metadata,
                    ["GET"],
                    include_in_schema=False,
                )
        return [router, Mount(self.path, self._endpoint, name="mcp")]

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
                64 characters) or taken twice, a resource route that is not GET, or a
                JWT without an audience while MCP requires authentication.
        """
        if self._catalogued:
            return self.tools
        from trivium.openapi import description_of
        from trivium.openapi import route_tools

        app.build()
        selected: list[tuple[Route, Any, str | None]] = []
        titles: dict[int, str | None] = {}
        for route in app.routes:
            if not isinstance(route, Route):
                continue
            value = route.options.get("mcp")
            if value is None:
                value = getattr(route.endpoint, MARK, None)
            settings = option_settings(value, f"route {route.path!r}")
            if settings is None:
                continue
            if settings.pop("resource", False) or "uri" in settings:
                self.resources.append(self._resource(route, settings))
                continue
            titles[id(route)] = settings.pop("title", None)
            settings.pop("mime_type", None)
            if not settings.get("description"):
                summary = route.options.get("summary")
                settings["description"] = description_of(route) or summary or ""
            default = getattr(route.endpoint, "__name__", None) or route.name
            selected.append((route, settings or True, default))
        for tool in route_tools(app, selected, output=True):
            route = tool.route
            assert route is not None  # route_tools names the route of each tool
            output, wrapped = _object_schema(tool.output_schema)
            tool = dataclasses.replace(tool, output_schema=output)
            self.tools[tool.name] = McpTool(
                tool, route, _guards(route), titles.get(id(route)), wrapped
            )
        self._check_auth(app)
        self._catalogued = True
        return self.tools

    def _resource(self, route: Route, settings: Mapping[str, Any]) -> _Resource:
        if "GET" not in route.methods:
            raise ConfigurationError(
                f"route {route.path!r} is an MCP resource but does not answer GET; "
                "offer it as a tool (mcp=True) instead",
                "mcp-resource-method",
            )
        path = route.path
        uri = settings.get("uri") or f"trivium://app{path}"
        params = re.findall(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::[^}]*)?}", uri)
        uri = re.sub(r"{([a-zA-Z_][a-zA-Z0-9_]*):[^}]*}", r"{\1}", uri)
        pattern = (
            "^"
            + "".join(
                f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
                for part in re.split(r"({[a-zA-Z_][a-zA-Z0-9_]*})", uri)
                if part
            )
            + "$"
        )
        name = settings.get("name") or getattr(route.endpoint, "__name__", None) or path
        from trivium.openapi import description_of

        return _Resource(
            uri,
            name,
            settings.get("description") or description_of(route) or None,
            settings.get("mime_type", "application/json"),
            route,
            re.compile(pattern),
            bool(params),
        )

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
        self._jwt = jwt is not None
        if self.require_auth is None:
            self.require_auth = self._jwt
        if self.require_auth and auth is None:
            raise ConfigurationError(
                "MCP(require_auth=True) needs trivium.auth: install Auth(...) first",
                "mcp-auth",
            )
        if jwt is not None and self.require_auth and not (jwt.audience or self.resource):
            raise ConfigurationError(
                "MCP with JWT authentication needs audience-bound tokens: set "
                "JWTConfig(audience=...) to this server's resource URL",
                "mcp-audience",
            )
        if self.resource is None and jwt is not None:
            self.resource = jwt.audience

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

    async def _endpoint(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        manager = self._manager
        app = self._app
        if manager is None or app is None:
            await _answer(send, 503, {"detail": "the MCP server is not started (lifespan)"})
            return
        caller = Caller.from_scope(scope)
        probe = await dispatch(app, caller, "GET", _PROBE_PATH, extra_scope={_PROBE_KEY: self})
        if probe.status == 401:
            await self._challenge(scope, send, probe, "invalid_token")
            return
        if probe.status != 200:
            await _answer(send, probe.status, _json(probe) or {"detail": "refused"})
            return
        seen = json.loads(probe.body)
        if self.require_auth and not seen["authenticated"]:
            await self._challenge(scope, send, None, None)
            return
        refused = {name: (status, why) for name, (status, why) in seen["refused"].items()}
        token = _CALL.set(_Call(caller, refused))
        try:
            await manager.handle_request(scope, receive, send)
        finally:
            _CALL.reset(token)

    async def _challenge(
        self, scope: Any, send: Any, probe: Outcome | None, error: str | None
    ) -> None:
        challenge = f'Bearer resource_metadata="{self._metadata_url(scope)}"'
        if error:
            challenge += f', error="{error}"'
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

    def _metadata_url(self, scope: Mapping[str, Any]) -> str:
        return self._origin(scope) + _METADATA_PATH + self.path

    async def _metadata(self, request: Request) -> dict[str, Any]:
        """RFC 9728 protected-resource metadata of the MCP endpoint."""
        origin = self._origin(request.scope)
        scopes: set[str] = set()
        for tool in self.tools.values():
            scopes.update(tool.scopes)
        document: dict[str, Any] = {
            "resource": self.resource or origin + self.path,
            "authorization_servers": list(self.authorization_servers or (origin,)),
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


def _guards(route: Route) -> tuple[Any, ...]:
    try:
        from trivium.auth import Guard
    except ImportError:  # pragma: no cover - the auth extra is missing
        return ()
    calls = route.analysis.dependency_calls if route.analysis is not None else []
    return tuple(call for call in calls if isinstance(call, Guard))


def _object_schema(schema: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
    """Return an output schema whose root is an object, and whether it wraps the value."""
    if schema is None:
        return None, False
    root = schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        root = schema.get("$defs", {}).get(ref[len("#/$defs/") :], {})
    if root.get("type") == "object":
        if root is schema:
            return schema, False
        merged = {k: v for k, v in schema.items() if k != "$ref"}
        merged.update({k: v for k, v in root.items() if k != "$defs"})
        return merged, False
    defs = schema.get("$defs")
    inner = {k: v for k, v in schema.items() if k != "$defs"}
    wrapped: dict[str, Any] = {
        "type": "object",
        "properties": {"result": inner},
        "required": ["result"],
    }
    if defs:
        wrapped["$defs"] = defs
    return wrapped, True


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
