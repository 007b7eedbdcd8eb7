"""FastAPI's OpenAPI helper functions: build a document from routes, render docs pages.

For apps that customise their document (`app.openapi = custom_openapi` calling
`get_openapi(...)`) or serve their own docs pages (self-hosted Swagger UI files).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import orjson

from trivium.http import HTMLResponse

__all__ = [
    "get_openapi",
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
]

_SWAGGER_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
_REDOC_CDN = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"
_FAVICON = "https://fastapi.tiangolo.com/img/favicon.png"


def get_openapi(  # noqa: PLR0913 - FastAPI's signature
    *,
    title: str,
    version: str,
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    routes: Sequence[Any],
    webhooks: Sequence[Any] | None = None,
    tags: Sequence[Mapping[str, Any]] | None = None,
    servers: Sequence[Mapping[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: Mapping[str, Any] | None = None,
    license_info: Mapping[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
) -> dict[str, Any]:
    """Return the OpenAPI document of `routes` (typically `app.routes`) with this `info`.

    The routes are copied, never recompiled in place, so the serving app is untouched.
    """
    from trivium.app import App

    app = App(
        title=title,
        version=version,
        description=description or "",
        summary=summary,
        contact=contact,
        license_info=license_info,
        terms_of_service=terms_of_service,
        openapi_url=None,
        servers=servers,
        openapi_tags=tags,
        separate_input_output_schemas=separate_input_output_schemas,
    )
    return routes_document(app, routes, webhooks, openapi_version)


def routes_document(
    app: Any, routes: Sequence[Any], webhooks: Sequence[Any] | None, openapi_version: str
) -> dict[str, Any]:
    """Return the document `app` (made for it, serving nothing) gives copies of `routes`.

    What `get_openapi` does once it has an app with the document's `info`; the compat
    layer's `get_openapi` calls it with a compat `FastAPI`, whose document follows
    FastAPI's conventions.
    """
    from trivium.openapi._config import webhooks as webhook_router
    from trivium.routing import Route

    app.routes.extend(_copy(route) for route in routes if isinstance(route, Route))
    if webhooks:
        webhook_router(app).routes.extend(_copy(r) for r in webhooks if isinstance(r, Route))
    document: dict[str, Any] = app.openapi()
    document["openapi"] = openapi_version
    return document


def _copy(route: Any) -> Any:
    return type(route)(route.path, route.endpoint, route.methods, route.options)


def get_swagger_ui_html(  # noqa: PLR0913 - FastAPI's signature
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str = f"{_SWAGGER_CDN}/swagger-ui-bundle.js",
    swagger_css_url: str = f"{_SWAGGER_CDN}/swagger-ui.css",
    swagger_favicon_url: str = _FAVICON,
    oauth2_redirect_url: str | None = None,
    init_oauth: Mapping[str, Any] | None = None,
    swagger_ui_parameters: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    """Return a Swagger UI page for the document at `openapi_url`.

    The script and stylesheet URLs default to a CDN, as FastAPI's do; pass your own to
    serve the files yourself.
    """
    options: dict[str, Any] = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
        **(swagger_ui_parameters or {}),
    }
    if oauth2_redirect_url:
        options["oauth2RedirectUrl"] = oauth2_redirect_url
    init = f"ui.initOAuth({_json(init_oauth)});" if init_oauth else ""
    page = f"""<!DOCTYPE html>
<html>
<head>
<link type="text/css" rel="stylesheet" href="{_escape(swagger_css_url)}">
<link rel="shortcut icon" href="{_escape(swagger_favicon_url)}">
<title>{_escape(title)}</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{_escape(swagger_js_url)}"></script>
<script>
const options = {_json(options)};
options.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];
if (options.oauth2RedirectUrl && options.oauth2RedirectUrl.startsWith("/")) {{
  options.oauth2RedirectUrl = window.location.origin + options.oauth2RedirectUrl;
}}
const ui = SwaggerUIBundle(options);
{init}
</script>
</body>
</html>
"""
    return HTMLResponse(page)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str = _REDOC_CDN,
    redoc_favicon_url: str = _FAVICON,
    with_google_fonts: bool = True,
) -> HTMLResponse:
    """Return a ReDoc page for the document at `openapi_url`."""
    fonts = (
        '<link href="https://fonts.googleapis.com/css?family=Montserrat:300,400,700|'
        'Roboto:300,400,700" rel="stylesheet">'
        if with_google_fonts
        else ""
    )
    page = f"""<!DOCTYPE html>
<html>
<head>
<title>{_escape(title)}</title>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1">
{fonts}
<link rel="shortcut icon" href="{_escape(redoc_favicon_url)}">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<noscript>ReDoc requires Javascript to function. Please enable it to browse the documentation.</noscript>
<redoc spec-url="{_escape(openapi_url)}"></redoc>
<script src="{_escape(redoc_js_url)}"></script>
</body>
</html>
"""
    return HTMLResponse(page)


def get_swagger_ui_oauth2_redirect_html(
    swagger_js_url: str = f"{_SWAGGER_CDN}/oauth2-redirect.js",
) -> HTMLResponse:
    """Return the page an OAuth2 provider redirects back to after authorizing."""
    page = f"""<!doctype html>
<html lang="en-US">
<head><title>Swagger UI: OAuth2 Redirect</title></head>
<body>
<script src="{_escape(swagger_js_url)}"></script>
</body>
</html>
"""
    return HTMLResponse(page)


def _json(data: Any) -> str:
    text = orjson.dumps(data).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _escape(text: str) -> str:
    from html import escape

    return escape(text, quote=True)
