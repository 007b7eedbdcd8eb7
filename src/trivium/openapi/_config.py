"""Per-app settings of the OpenAPI battery, kept in `app.extensions`.

The core `App` only knows the document and docs URLs; everything else the battery can be
told (Swagger UI options, where ReDoc's script comes from, extra `info` fields, webhooks)
lives here so the core constructor stays the one FastAPI users know.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from trivium.routing import Router

__all__ = [
    "REDOC_JS_URL",
    "OpenAPIConfig",
    "configure",
    "get_config",
    "scheme_overrides",
    "security_schemes",
    "webhooks",
]

REDOC_JS_URL = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"
"""Where the ReDoc page loads its script from unless `OpenAPIConfig` says otherwise."""

CONFIG_KEY = "openapi.config"
WEBHOOKS_KEY = "openapi.webhooks"
SCHEMES_KEY = "openapi.security_schemes"


@dataclasses.dataclass(frozen=True, slots=True)
class OpenAPIConfig:
    """What the OpenAPI battery can be told beyond the URLs given to `App`.

    Args:
        info: extra fields of the document's `info` object (`summary`, `contact`,
            `license`, `termsOfService`...), merged over title, version and description.
        swagger_ui_parameters: options passed to `SwaggerUIBundle(...)`, merged over the
            defaults (`validatorUrl: null`, `persistAuthorization: true`, deep linking).
        swagger_ui_oauth2_init: options passed to `ui.initOAuth(...)` (client id, scopes,
            PKCE...); omitted when empty.
        redoc_js_url: the URL of ReDoc's standalone script (a CDN by default).
        redoc_js_file: a local copy of `redoc.standalone.js` to serve instead, for docs
            that work offline; it is served next to the ReDoc page.
        cache_max_age: seconds browsers may cache the Swagger UI and ReDoc assets.
        document_dependency_responses: document the responses dependencies declare in
            `__openapi_responses__` (such as the security classes' 401).
        document_body_errors: document the 400, 413 and 415 responses of operations that
            read a request body (malformed, too large, wrong media type).
    """

    info: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    swagger_ui_parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    swagger_ui_oauth2_init: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    redoc_js_url: str = REDOC_JS_URL
    redoc_js_file: str | os.PathLike[str] | None = None
    cache_max_age: int = 86400
    document_body_errors: bool = True
    document_dependency_responses: bool = True


def configure(app: Any, config: OpenAPIConfig) -> None:
    """Give `app` the OpenAPI settings `config` (before it starts)."""
    app.extensions[CONFIG_KEY] = config


def get_config(app: Any) -> OpenAPIConfig:
    """Return the OpenAPI settings of `app` (the defaults when none were given)."""
    config = app.extensions.get(CONFIG_KEY)
    return config if isinstance(config, OpenAPIConfig) else OpenAPIConfig()


def webhooks(app: Any) -> Router:
    """Return the router whose routes document the webhooks `app` sends (created on first use).

    Each route is one webhook: its path (without the leading `/`) names it, its handler's
    parameters describe the request the app sends, and its return type the expected reply.
    The routes are documented only, never served.
    """
    router = app.extensions.get(WEBHOOKS_KEY)
    if router is None:
        router = app.extensions[WEBHOOKS_KEY] = Router()
    if not isinstance(router, Router):
        from trivium.errors import ConfigurationError

        raise ConfigurationError(
            f"app.extensions[{WEBHOOKS_KEY!r}] holds {type(router).__name__}, not a Router",
            "openapi-webhooks",
        )
    return router


def security_schemes(app: Any) -> dict[str, Mapping[str, Any]]:
    """Return `app`'s security schemes by name, which win over the dependencies' (mutable).

    A dependency's `__openapi_security__` carries its scheme, which cannot know the app
    it serves; a scheme put here under the same name is documented instead, read when the
    document is built. The auth battery registers its OAuth2 scheme here so the token URL
    follows the prefix its views are mounted at.

    ```python
    security_schemes(app)["TriviumAuth"] = {"type": "http", "scheme": "bearer"}
    ```
    """
    schemes = app.extensions.get(SCHEMES_KEY)
    if schemes is None:
        schemes = app.extensions[SCHEMES_KEY] = {}
    if not isinstance(schemes, dict):
        from trivium.errors import ConfigurationError

        raise ConfigurationError(
            f"app.extensions[{SCHEMES_KEY!r}] holds {type(schemes).__name__}, not a dict",
            "openapi-security-schemes",
        )
    return schemes


def scheme_overrides(app: Any) -> Mapping[str, Mapping[str, Any]]:
    """Return the schemes registered with `security_schemes(app)` (empty when none)."""
    schemes = app.extensions.get(SCHEMES_KEY)
    return schemes if isinstance(schemes, dict) else {}
