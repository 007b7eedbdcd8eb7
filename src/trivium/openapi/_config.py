"""The OpenAPI battery's plugin and per-app settings.

The core `App` only knows the document and docs URLs; everything else the battery can be
told (Swagger UI options, where ReDoc's script comes from, extra `info` fields, webhooks)
lives here so the core constructor stays the one FastAPI users know.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from trivium.errors import ConfigurationError
from trivium.plugins import Plugin
from trivium.routing import Router

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.app import DocsConfig
    from trivium.openapi._schemes import SchemeCheck
    from trivium.plugins import RequestStep
    from trivium.plugins import RouteNeeds
    from trivium.routing import Route

__all__ = [
    "REDOC_JS_URL",
    "OpenAPI",
    "OpenAPIConfig",
    "configure",
    "extra_components",
    "get_config",
    "scheme_overrides",
    "security_schemes",
    "webhooks",
]

REDOC_JS_URL = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"
"""Where the ReDoc page loads its script from unless `OpenAPIConfig` says otherwise."""


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
        root_path_in_servers: behind a proxy that strips a prefix (a `root_path`), list
            that prefix as the server when the app names no `servers`.
        root_path_before_servers: with `root_path_in_servers`, list the prefix first
            even when the document names servers, unless one of them is the prefix
            (FastAPI's rule; trivium's own apps keep the servers they declare as they are).
        security_scheme_conflicts: `"error"` refuses two different security schemes
            with one name (at start-up and in the document); `"last"` documents the
            last one found, as FastAPI does.
    """

    info: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    swagger_ui_parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    swagger_ui_oauth2_init: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    redoc_js_url: str = REDOC_JS_URL
    redoc_js_file: str | os.PathLike[str] | None = None
    cache_max_age: int = 86400
    document_body_errors: bool = True
    document_dependency_responses: bool = True
    root_path_in_servers: bool = True
    root_path_before_servers: bool = False
    security_scheme_conflicts: Literal["error", "last"] = "error"


class WebhookRouter(Router):
    """The router of the webhooks an app sends: a route's path is the webhook's name.

    The name may be written without the leading `/` (`@webhooks(app).post("new-order")`,
    as FastAPI's `app.webhooks` takes it); the document lists it without one either way.
    """

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] | None = None,
        **options: Any,
    ) -> Route:
        """Describe the webhook `path` names (see `Router.add_route`)."""
        if path and not path.startswith("/"):
            path = "/" + path
        return super().add_route(path, endpoint, methods, **options)


class OpenAPI(Plugin):
    """The OpenAPI battery as a plugin: the document, the docs pages and their settings.

    `App.build()` installs one when the app has an `openapi_url`; `configure(app, ...)`,
    `webhooks(app)` and `security_schemes(app)` install one when called first. Other
    plugins add components (security schemes, say) through their `openapi_components`
    hook.

    Args:
        config: the battery's settings (`OpenAPIConfig()` by default).
    """

    install_hint = "trivium.openapi.configure(app, OpenAPIConfig(...))"

    def __init__(self, config: OpenAPIConfig | None = None) -> None:
        self.config = config or OpenAPIConfig()
        """The settings read when the document and the docs pages are built."""
        self.webhooks: Router = WebhookRouter()
        """Routes documenting the webhooks the app sends (never served)."""
        self.security_schemes: dict[str, Mapping[str, Any]] = {}
        """Schemes by name that win over the dependencies' own."""
        self.tools: tuple[Any, ...] | None = None
        """The app's LLM tools, once computed."""
        self.routes_added = False
        """Whether the document and docs routes were added to the app."""
        self._schemes: SchemeCheck | None = None

    def on_build(self, app: App) -> None:
        """Add the document, Swagger UI and ReDoc routes (see `trivium.openapi.install`).

        Raises:
            ConfigurationError: `OpenAPIConfig` and the app's `DocsConfig` give one
                setting two values (`app-docs-config`).
        """
        from trivium.openapi._docs import add_routes

        refuse_overlap(app.docs_config, self.config)
        add_routes(app, self)

    def after_build(self, app: App) -> None:
        """Get ready to refuse conflicting security schemes as the routes are compiled."""
        if self.config.security_scheme_conflicts == "error":
            from trivium.openapi._schemes import SchemeCheck

            self._schemes = SchemeCheck(app)

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """Add no step; check the route's security schemes against the others' (start-up).

        Raises:
            ConfigurationError: two documented routes use different security schemes
                under one name (`openapi-security-scheme-conflict`).
        """
        if self._schemes is not None:
            self._schemes.check(route)
        return ()


_INFO_FIELDS = {
    "summary": "summary",
    "contact": "contact",
    "license": "license_info",
    "termsOfService": "terms_of_service",
}


def refuse_overlap(docs: DocsConfig, config: OpenAPIConfig) -> None:
    """Refuse an `info` field or Swagger UI option set in both places to two values.

    The app's keywords (`DocsConfig`) and `OpenAPIConfig` both reach the `info` object
    and Swagger UI's options; an entry may come from either, not two values from both.

    Raises:
        ConfigurationError: one entry has two values (`app-docs-config`).
    """
    pairs = [
        (f"info[{key!r}]", config.info[key], field, getattr(docs, field))
        for key, field in _INFO_FIELDS.items()
        if key in config.info
    ]
    pairs += [
        (f"swagger_ui_parameters[{key!r}]", value, f"swagger_ui_parameters[{key!r}]", mine)
        for key, value in config.swagger_ui_parameters.items()
        if (mine := docs.swagger_ui_parameters.get(key)) is not None
    ]
    for entry, value, field, mine in pairs:
        if mine not in (None, value):
            raise ConfigurationError(
                f"OpenAPIConfig({entry}={value!r}) and the app's {field}={mine!r} give one "
                "setting two values; set it once, as an App keyword (DocsConfig) or in "
                "OpenAPIConfig",
                "app-docs-config",
            )


def _plugin(app: Any) -> OpenAPI:
    found = app.plugins_of(OpenAPI)
    if found:
        return found[0]  # type: ignore[no-any-return]
    plugin = OpenAPI()
    app.install(plugin)
    return plugin


def configure(app: Any, config: OpenAPIConfig) -> None:
    """Give `app` the OpenAPI settings `config` (before it starts)."""
    _plugin(app).config = config


def get_config(app: Any) -> OpenAPIConfig:
    """Return the OpenAPI settings of `app` (the defaults when none were given)."""
    found = app.plugins_of(OpenAPI)
    return found[0].config if found else OpenAPIConfig()


def webhooks(app: Any) -> Router:
    """Return the router whose routes document the webhooks `app` sends.

    Each route is one webhook: its path (without the leading `/`) names it, its handler's
    parameters describe the request the app sends, and its return type the expected reply.
    The routes are documented only, never served.
    """
    return _plugin(app).webhooks


def security_schemes(app: Any) -> dict[str, Mapping[str, Any]]:
    """Return `app`'s security schemes by name, which win over the dependencies' (mutable).

    A dependency's `__openapi_security__` carries its scheme, which cannot know the app
    it serves; a scheme put here under the same name is documented instead, read when the
    document is built. Plugins contribute theirs through `Plugin.openapi_components`.

    ```python
    security_schemes(app)["TriviumAuth"] = {"type": "http", "scheme": "bearer"}
    ```
    """
    return _plugin(app).security_schemes


def scheme_overrides(app: Any) -> Mapping[str, Mapping[str, Any]]:
    """Return the schemes that win over the dependencies': the plugins', then `security_schemes(app)`."""
    schemes: dict[str, Mapping[str, Any]] = {}
    for plugin in app.plugins:
        schemes.update(plugin.openapi_components(app).get("securitySchemes", {}))
    for plugin in app.plugins_of(OpenAPI):
        schemes.update(plugin.security_schemes)
    return schemes


def extra_components(app: Any) -> dict[str, dict[str, Any]]:
    """Return the components other than security schemes that plugins contribute, by section."""
    sections: dict[str, dict[str, Any]] = {}
    for plugin in app.plugins:
        for section, entries in plugin.openapi_components(app).items():
            if section != "securitySchemes":
                sections.setdefault(section, {}).update(entries)
    return sections
