"""OpenAPI 3.1 documents, interactive docs, security schemes and LLM tool schemas.

`App.build()` calls `install(app)` when the app has an `openapi_url`, which adds the
document, Swagger UI and ReDoc routes; `App.openapi()` calls `generate(app)` once and
caches the result; `App.tool_schemas()` calls `tool_schemas(app)`. The schema machinery
(pydantic's JSON Schema generator) is imported only when a document or tool list is
first built, so serving an app costs nothing until someone asks for its docs.
See docs/openapi.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from trivium.openapi._config import REDOC_JS_URL
from trivium.openapi._config import OpenAPI
from trivium.openapi._config import OpenAPIConfig
from trivium.openapi._config import configure
from trivium.openapi._config import security_schemes
from trivium.openapi._config import webhooks
from trivium.openapi._docs import install
from trivium.openapi._functions import get_openapi
from trivium.openapi._functions import get_redoc_html
from trivium.openapi._functions import get_swagger_ui_html
from trivium.openapi._functions import get_swagger_ui_oauth2_redirect_html
from trivium.openapi._security import APIKeyCookie
from trivium.openapi._security import APIKeyHeader
from trivium.openapi._security import APIKeyQuery
from trivium.openapi._security import HTTPAuthorizationCredentials
from trivium.openapi._security import HTTPBasic
from trivium.openapi._security import HTTPBasicCredentials
from trivium.openapi._security import HTTPBearer
from trivium.openapi._security import HTTPDigest
from trivium.openapi._security import OAuth2
from trivium.openapi._security import OAuth2AuthorizationCodeBearer
from trivium.openapi._security import OAuth2PasswordBearer
from trivium.openapi._security import OAuth2PasswordRequestForm
from trivium.openapi._security import OAuth2PasswordRequestFormStrict
from trivium.openapi._security import OpenIdConnect
from trivium.openapi._security import SecurityBase
from trivium.openapi._security import SecurityRequirement
from trivium.openapi._security import security_scheme

if TYPE_CHECKING:
    from trivium.openapi._tools import Tool
    from trivium.openapi._tools import ToolArgument
    from trivium.routing import Route

__all__ = [
    "REDOC_JS_URL",
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "OpenAPI",
    "OpenAPIConfig",
    "OpenIdConnect",
    "SecurityBase",
    "SecurityRequirement",
    "Tool",
    "ToolArgument",
    "configure",
    "description_of",
    "generate",
    "get_openapi",
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
    "install",
    "route_tools",
    "security_scheme",
    "security_schemes",
    "tool_schemas",
    "tools",
    "webhooks",
]


def generate(app: Any) -> dict[str, Any]:
    """Build the OpenAPI 3.1 document of `app` (prefer `app.openapi()`, which caches it).

    Raises:
        ConfigurationError: two operations share an operationId, or two different security
            schemes share a name.
    """
    from trivium.openapi._document import generate as build_document

    return build_document(app)


def tools(app: Any) -> list[Tool]:
    """Return the routes of `app` opted in with `tool=...` as `Tool`s (one per method).

    Raises:
        ConfigurationError: a tool name is invalid or repeated, two arguments of a tool
            share a name, or a tool route takes file uploads.
    """
    from trivium.openapi._tools import tools as build_tools

    return build_tools(app)


def description_of(route: Route) -> str | None:
    r"""Return the description the document gives `route`.

    The route's `description` option, else its handler's docstring up to a form feed
    (a `\f` in the docstring), as in FastAPI; `None` when it has neither.
    """
    from trivium.openapi._document import description_of as describe

    return describe(route)


def route_tools(app: Any, selected: Any, *, output: bool = False) -> list[Tool]:
    """Return `Tool`s for chosen routes: `(route, settings, default name)` each (MCP).

    Raises:
        ConfigurationError: see `tools`.
    """
    from trivium.openapi._tools import route_tools as build_route_tools

    return build_route_tools(app, list(selected), output=output)


def tool_schemas(app: Any, format: str = "openai") -> list[dict[str, Any]]:
    """Return the tools of `app` as `"openai"`, `"anthropic"` or `"mcp"` tool definitions.

    Raises:
        ValueError: `format` is not one of those.
        ConfigurationError: see `tools`.
    """
    from trivium.openapi._tools import tool_schemas as build_schemas

    return build_schemas(app, format)


def __getattr__(name: str) -> Any:
    if name in ("Tool", "ToolArgument"):
        from trivium.openapi import _tools

        value = getattr(_tools, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'trivium.openapi' has no attribute {name!r}")
