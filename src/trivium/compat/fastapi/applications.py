"""`fastapi.applications`: `FastAPI`, trivium's `App` with FastAPI's defaults.

Where trivium's defaults are stricter, `FastAPI` takes FastAPI's (Starlette's):

- a trailing-slash redirect is a `307` to an absolute URL (trivium: `308`, relative);
- malformed JSON is a `422` validation error with a `json_invalid` entry (trivium: `400`);
- a body that is not JSON (no or another `Content-Type`) is validated as text, so a
  model answers `422` (trivium: `415`); `strict_content_type=False` parses a body sent
  without `Content-Type` as JSON, as FastAPI's option does;
- `CORSMiddleware` from the compat modules accepts a wildcard with credentials;
- schemas carry no `"default": null` (FastAPI leaves them out);
- operations document only the responses FastAPI documents (no 400/413/415 entries,
  no 401 of the security dependencies; the server still answers them);
- behind a proxy prefix (`root_path`), the document lists it as the first server even
  when `servers=` names others;
- two different security schemes with one name are no error: the last one is documented.

The default security headers stay on: the one visible difference (docs/compat.md).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from trivium.app import App
from trivium.compat._apiroute import APIRoute
from trivium.compat._mount import adopt_mounted_routes
from trivium.compat.fastapi.exceptions import FastAPIDeprecationWarning
from trivium.compat.fastapi.routing import _FastAPIRouting
from trivium.compat.fastapi.routing import refuse_unsupported
from trivium.compat.fastapi.utils import generate_unique_id
from trivium.di import Depends
from trivium.http._request import DEFAULT_MAX_BODY_SIZE
from trivium.middleware import Middleware
from trivium.responses import Response
from trivium.routing import Router

__all__ = ["FastAPI"]


class FastAPI(_FastAPIRouting, App):  # type: ignore[misc]  # `limits`, as on App
    """FastAPI's application class over trivium (see the module docstring for the defaults)."""

    def __init__(  # noqa: PLR0913 - FastAPI's constructor, option for option
        self,
        *,
        debug: bool = False,
        routes: Sequence[Any] | None = None,
        title: str = "FastAPI",
        summary: str | None = None,
        description: str = "",
        version: str = "0.1.0",
        openapi_url: str | None = "/openapi.json",
        openapi_tags: Sequence[Mapping[str, Any]] | None = None,
        servers: Sequence[Mapping[str, Any]] | None = None,
        dependencies: Sequence[Depends] | None = None,
        default_response_class: type[Response] | None = None,
        redirect_slashes: bool = True,
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_init_oauth: Mapping[str, Any] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[Any, Callable[..., Any]] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Callable[[Any], Any] | None = None,
        terms_of_service: str | None = None,
        contact: Mapping[str, Any] | None = None,
        license_info: Mapping[str, Any] | None = None,
        openapi_prefix: str = "",
        root_path: str = "",
        root_path_in_servers: bool = True,
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: Sequence[Any] | None = None,
        webhooks: Any = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        swagger_ui_parameters: Mapping[str, Any] | None = None,
        generate_unique_id_function: Callable[[Any], str] = generate_unique_id,
        separate_input_output_schemas: bool = True,
        strict_content_type: bool = True,
        max_body_size: int | None = None,
        form_limits: Mapping[str, int] | None = None,
    ) -> None:
        docs_base = (docs_url or "/docs").rstrip("/")
        redirect = swagger_ui_oauth2_redirect_url
        served = (None, docs_base + "/oauth2-redirect", "/docs/oauth2-redirect")
        if root_path:
            warnings.warn(
                "The `root_path` parameter is deprecated. Configure the server's root path "
                "instead, for example with `fastapi run --root-path /api/v1`.",
                FastAPIDeprecationWarning,
                stacklevel=2,
            )
        refuse_unsupported(
            callbacks=callbacks,
            swagger_ui_oauth2_redirect_url=redirect if redirect not in served else None,
        )
        super().__init__(
            debug=debug,
            routes=routes,
            title=title,
            summary=summary,
            description=description,
            version=version,
            openapi_url=openapi_url,
            openapi_tags=openapi_tags,
            servers=servers,
            dependencies=dependencies,
            default_response_class=default_response_class,
            redirect_slashes=redirect_slashes,
            docs_url=docs_url,
            redoc_url=redoc_url,
            middleware=middleware,
            exception_handlers=exception_handlers,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            lifespan=lifespan,
            terms_of_service=terms_of_service,
            contact=contact,
            license_info=license_info,
            openapi_prefix=openapi_prefix,
            root_path=root_path,
            responses=responses,
            swagger_ui_parameters=swagger_ui_parameters,
            generate_unique_id_function=(
                None
                if generate_unique_id_function is generate_unique_id
                else generate_unique_id_function
            ),
            separate_input_output_schemas=separate_input_output_schemas,
            strict_content_type=strict_content_type,
            max_body_size=DEFAULT_MAX_BODY_SIZE if max_body_size is None else max_body_size,
            form_limits=form_limits,
        )
        self.route_class = APIRoute
        self.openapi_version = "3.1.0"
        """The `openapi` field of the document (FastAPI's attribute)."""
        self.swagger_ui_oauth2_redirect_url = swagger_ui_oauth2_redirect_url
        """Where Swagger UI's OAuth2 redirect page is served (FastAPI's attribute)."""
        self.swagger_ui_init_oauth = swagger_ui_init_oauth
        """Options of Swagger UI's `initOAuth` (FastAPI's attribute)."""
        self.root_path_in_servers = root_path_in_servers
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.http_config = dataclasses.replace(
            self.http_config,
            slash_redirect_status=307,
            slash_redirect_absolute=True,
            json_errors_as_validation=True,
            websocket_disconnect_escapes=True,
            plain_server_errors=True,
            strict_path_params=False,
        )
        self._openapi_extras(swagger_ui_init_oauth, webhooks, root_path_in_servers)

    def _openapi_extras(
        self, init_oauth: Mapping[str, Any] | None, webhooks: Any, root_in_servers: bool
    ) -> None:
        import trivium.openapi

        trivium.openapi.configure(
            self,
            trivium.openapi.OpenAPIConfig(
                swagger_ui_oauth2_init=dict(init_oauth or {}),
                document_body_errors=False,
                document_dependency_responses=False,
                root_path_in_servers=root_in_servers,
                root_path_before_servers=True,
                security_scheme_conflicts="last",
            ),
        )
        hooks = trivium.openapi.webhooks(self)
        hooks.route_class = APIRoute
        if webhooks is not None:
            hooks.routes.extend(webhooks.routes)

    def build(self) -> None:
        """Compile the app, its `Mount(path, routes=[...])` groups serving as part of it."""
        adopt_mounted_routes(self)
        super().build()

    def openapi(self) -> dict[str, Any]:
        """Return the OpenAPI document, without `"default": null` entries (as FastAPI's)."""
        if self.openapi_schema is None:
            document = super().openapi()
            _drop_null_defaults(document)
            document["openapi"] = self.openapi_version
        return super().openapi()

    def on_event(self, event: str) -> Callable[[Any], Any]:
        """Register a `"startup"` or `"shutdown"` callable (deprecated in FastAPI: warns)."""
        warnings.warn(
            "on_event is deprecated, use lifespan event handlers instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return super().on_event(event)

    @property
    def webhooks(self) -> Router:
        """The router whose routes document the webhooks the app sends (`@app.webhooks.post`)."""
        import trivium.openapi

        return trivium.openapi.webhooks(self)


def _drop_null_defaults(node: Any) -> None:
    """Remove `"default": None` from every schema in `node`, in place.

    Also names stream item schemas `itemSchema`, as FastAPI does in its 3.1 documents
    (trivium's own documents keep the valid extension `x-itemSchema`).
    """
    if isinstance(node, dict):
        if node.get("default", 0) is None:
            del node["default"]
        if "x-itemSchema" in node:
            node["itemSchema"] = node.pop("x-itemSchema")
        for value in node.values():
            _drop_null_defaults(value)
    elif isinstance(node, list):
        for item in node:
            _drop_null_defaults(item)
