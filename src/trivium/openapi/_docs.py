"""Serve the document, Swagger UI and ReDoc: the routes `install()` adds to an app.

Swagger UI runs offline from the `swagger-ui-bundle-v2` package, whose files are served
under `{docs_url}/static/`. The pages carry no inline script: the Swagger UI options go
in a JSON data block that a small script of ours reads, so the docs keep working under
a strict Content-Security-Policy. ReDoc has no dependency-free offline package on PyPI,
so its page loads the script from `OpenAPIConfig.redoc_js_url` (a CDN by default) unless
`OpenAPIConfig.redoc_js_file` names a local copy, which is then served next to the page.

With CSRF protection installed, "Try it out" must send the token on the unsafe requests a
session cookie authenticates. The token lives in the session, out of JavaScript's reach,
so the docs serve it at `{docs_url}/csrf` and the init script's request interceptor
fetches it before each same-origin POST, PUT, PATCH or DELETE that has no `Authorization`
header, and sends it in the CSRF header (`CSRF(header_name=...)`, `X-CSRF-Token`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from typing import Any

import anyio.to_thread
import orjson

from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.http import HTMLResponse
from trivium.http import Request
from trivium.http import Response
from trivium.openapi._config import OpenAPI
from trivium.openapi._config import OpenAPIConfig

__all__ = ["add_routes", "install", "swagger_ui_dir"]


_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-bundle.js.map": "application/json",
    "swagger-ui.css": "text/css",
    "swagger-ui.css.map": "application/json",
    "oauth2-redirect.js": "text/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
_INIT_SCRIPT = "trivium-swagger-init.js"
_INIT_JS = """\
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("trivium-swagger-config").textContent);
  var options = config.options;
  options.dom_id = "#swagger-ui";
  options.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];
  options.layout = options.layout || "BaseLayout";
  if (!options.oauth2RedirectUrl) {
    options.oauth2RedirectUrl = window.location.origin + config.oauth2RedirectPath;
  }
  if (config.csrf) {
    options.requestInterceptor = csrfInterceptor(config.csrf);
  }
  var ui = SwaggerUIBundle(options);
  if (config.initOAuth) {
    ui.initOAuth(config.initOAuth);
  }
  window.ui = ui;

  // Add the CSRF token to the same-origin unsafe requests a session cookie authenticates.
  function csrfInterceptor(csrf) {
    var unsafe = /^(POST|PUT|PATCH|DELETE)$/i;
    return function (request) {
      var headers = request.headers || (request.headers = {});
      var url = new URL(request.url, window.location.href);
      if (!unsafe.test(request.method || "GET") || url.origin !== window.location.origin) {
        return request;
      }
      for (var name in headers) {
        var lower = name.toLowerCase();
        if (lower === "authorization" || lower === csrf.header) {
          return request;
        }
      }
      return fetch(csrf.tokenUrl, {credentials: "same-origin", headers: {accept: "application/json"}})
        .then(function (answer) { return answer.ok ? answer.json() : {}; })
        .then(function (data) {
          if (data.csrf_token) {
            headers[csrf.header] = data.csrf_token;
          }
          return request;
        })
        .catch(function () { return request; });
    };
  }
})();
"""
_SWAGGER_DEFAULTS: dict[str, Any] = {
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
    "validatorUrl": None,
    "persistAuthorization": True,
}


def swagger_ui_dir() -> Path:
    """Return the folder of Swagger UI's files from the `swagger-ui-bundle-v2` package.

    Raises:
        ConfigurationError: the package is not installed.
    """
    if importlib.util.find_spec("swagger_ui_bundle") is None:
        raise ConfigurationError(
            "docs_url serves Swagger UI from the 'swagger-ui-bundle-v2' package, which is not "
            "installed; install it (pip install swagger-ui-bundle-v2) or pass docs_url=None",
            "openapi-swagger-ui-missing",
        )
    module = importlib.import_module("swagger_ui_bundle")
    return Path(str(module.swagger_ui_path))


def _script_json(data: Any) -> str:
    """Encode `data` for a `<script type="application/json">` block (no `</script>` breakout)."""
    text = orjson.dumps(data).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Docs:
    """The endpoints of the docs routes, bound to one app."""

    def __init__(self, app: Any, config: OpenAPIConfig, swagger_dir: Path | None) -> None:
        self.app = app
        self.config = config
        self.swagger_dir = swagger_dir
        self.docs_base = (app.docs_config.docs_url or "").rstrip("/")
        self.csrf_header = _csrf_header(app)
        """The CSRF header "Try it out" sends the token in (`None`: the app has no CSRF)."""
        self._body: bytes | None = None
        self._source: Any = None  # the document `_body` was made from

    def _cache_headers(self) -> dict[str, str]:
        return {"cache-control": f"public, max-age={self.config.cache_max_age}"}

    async def openapi_json(self, request: Request) -> Response:
        """Serve the OpenAPI document as JSON."""
        app = self.app
        if self._body is None or app.openapi_schema is not self._source:
            # Built once; again after `app.openapi_schema = None` or a route added late.
            document = await anyio.to_thread.run_sync(app.openapi)
            self._body = orjson.dumps(document, default=str)
            self._source = document
        root = request.scope.get("root_path", "")
        if root and self.config.root_path_in_servers:
            # Behind a proxy that strips a prefix, clients must call the API under it.
            document = self._with_root_server(app.openapi(), root)
            if document is not None:
                body = orjson.dumps(document, default=str)
                return Response(body, media_type="application/json")
        return Response(self._body, media_type="application/json")

    def _with_root_server(self, document: dict[str, Any], root: str) -> dict[str, Any] | None:
        """Return `document` listing `root` as a server, or `None` to serve it as it is."""
        servers = document.get("servers") or []
        if not self.config.root_path_before_servers:
            return None if servers else {**document, "servers": [{"url": root}]}
        root = root.rstrip("/")
        if not root or any(server.get("url") == root for server in servers):
            return None
        return {**document, "servers": [{"url": root}, *servers]}

    async def swagger_ui(self, request: Request) -> HTMLResponse:
        """Serve the Swagger UI page."""
        root = request.scope.get("root_path", "")
        static = f"{root}{self.docs_base}/static"
        docs = self.app.docs_config
        options = {**_SWAGGER_DEFAULTS, "url": root + docs.openapi_url}
        options.update(docs.swagger_ui_parameters)
        options.update(self.config.swagger_ui_parameters)
        config: dict[str, Any] = {
            "options": options,
            "oauth2RedirectPath": f"{root}{self.docs_base}/oauth2-redirect",
        }
        if self.csrf_header is not None:
            token_url = f"{root}{self.docs_base}/csrf"
            config["csrf"] = {"header": self.csrf_header, "tokenUrl": token_url}
        if self.config.swagger_ui_oauth2_init:
            config["initOAuth"] = dict(self.config.swagger_ui_oauth2_init)
        title = _escape(f"{docs.title} - Swagger UI")
        page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{static}/swagger-ui.css">
<link rel="icon" type="image/png" href="{static}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script id="trivium-swagger-config" type="application/json">{_script_json(config)}</script>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{static}/{_INIT_SCRIPT}"></script>
</body>
</html>
"""
        return HTMLResponse(page)

    async def csrf_token(self, request: Request) -> Response:
        """Serve a CSRF token for the session, for "Try it out" (`{"csrf_token": ...}`)."""
        from trivium.csrf import get_csrf_token

        body = orjson.dumps({"csrf_token": get_csrf_token(request)})
        return Response(body, media_type="application/json", headers={"cache-control": "no-store"})

    async def swagger_redirect(self, request: Request) -> HTMLResponse:
        """Serve the page an OAuth2 provider redirects back to after authorizing."""
        static = f"{request.scope.get('root_path', '')}{self.docs_base}/static"
        page = f"""<!DOCTYPE html>
<html lang="en-US">
<head><title>Swagger UI: OAuth2 Redirect</title></head>
<body>
<script src="{static}/oauth2-redirect.js"></script>
</body>
</html>
"""
        return HTMLResponse(page)

    async def swagger_static(self, name: str) -> Response:
        """Serve one of Swagger UI's files (and our start-up script)."""
        from trivium.responses import FileResponse

        if name == _INIT_SCRIPT:
            return Response(_INIT_JS, media_type="text/javascript", headers=self._cache_headers())
        media_type = _ASSETS.get(name)
        if media_type is None or self.swagger_dir is None:
            raise HTTPException(404)
        return FileResponse(
            self.swagger_dir / name, media_type=media_type, headers=self._cache_headers()
        )

    async def redoc(self, request: Request) -> HTMLResponse:
        """Serve the ReDoc page."""
        root = request.scope.get("root_path", "")
        docs = self.app.docs_config
        script = self.config.redoc_js_url
        if self.config.redoc_js_file is not None:
            script = f"{root}{(docs.redoc_url or '').rstrip('/')}/redoc.standalone.js"
        title = _escape(f"{docs.title} - ReDoc")
        spec_url = _escape(root + docs.openapi_url)
        page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body>
<redoc spec-url="{spec_url}"></redoc>
<script src="{_escape(script)}"></script>
</body>
</html>
"""
        return HTMLResponse(page)

    async def redoc_js(self) -> Response:
        """Serve the local copy of ReDoc's script named by `OpenAPIConfig.redoc_js_file`."""
        from trivium.responses import FileResponse

        path = self.config.redoc_js_file
        if path is None:  # pragma: no cover - the route is only added with a file
            raise HTTPException(404)
        return FileResponse(path, media_type="text/javascript", headers=self._cache_headers())


def _csrf_header(app: Any) -> str | None:
    """Return the lowercased header the app's CSRF check reads the token from, if it has one."""
    from trivium.csrf import CSRF

    found = app.plugins_of(CSRF)
    return found[0].header.decode("latin-1") if found else None


def _check_redoc_file(config: OpenAPIConfig) -> None:
    path = config.redoc_js_file
    if path is not None and not os.path.isfile(path):  # noqa: PTH113 - str or PathLike
        raise ConfigurationError(
            f"OpenAPIConfig.redoc_js_file {os.fspath(path)!r} is not a file; point it at a "
            "copy of redoc.standalone.js or leave it out to load ReDoc from redoc_js_url",
            "openapi-redoc-file",
        )


class _Adder:
    """Add docs routes, leaving alone any path (or its slash twin) the app already serves."""

    def __init__(self, app: Any) -> None:
        from trivium.routing import Route

        self.app = app
        self.taken = {r.path for r in app.routes if isinstance(r, Route) and "GET" in r.methods}

    def add(self, path: str, endpoint: Any, name: str) -> None:
        from trivium.routing import Route

        twin = path[:-1] if path.endswith("/") and path != "/" else path + "/"
        if path in self.taken or twin in self.taken:
            return
        # Plain routes whatever the app's `route_class`: it is meant for the app's own
        # handlers (FastAPI's docs routes are not `APIRoute`s either).
        route_class, self.app.route_class = self.app.route_class, Route
        try:
            # As in FastAPI, the app-wide dependencies (an API key check) don't guard the docs.
            self.app.add_route(
                path, endpoint, ["GET"], name=name, include_in_schema=False, app_dependencies=False
            )
        finally:
            self.app.route_class = route_class


def install(app: Any) -> None:
    """Add the document, Swagger UI and ReDoc routes to `app` now (`App.build()` does it).

    The routes are left out of the document itself. A URL set to `None` on the app is not
    served (with `openapi_url=None`, none is), and a path the app already serves with its
    own GET route (or the same path with or without a trailing slash) is left to it.

    Raises:
        ConfigurationError: Swagger UI's package is missing while `docs_url` is set, or
            `OpenAPIConfig.redoc_js_file` is not a file.
    """
    from trivium.openapi._config import OpenAPI

    found = app.plugins_of(OpenAPI)
    plugin = found[0] if found else OpenAPI()
    if not found:
        app.install(plugin)
    add_routes(app, plugin)


def add_routes(app: Any, plugin: OpenAPI) -> None:
    """Add the docs routes of `plugin` to `app`, once."""
    if plugin.routes_added:
        return
    plugin.routes_added = True
    urls = app.docs_config
    if not urls.openapi_url:
        return
    config = plugin.config
    _check_redoc_file(config)
    docs = _Docs(app, config, swagger_ui_dir() if urls.docs_url else None)
    adder = _Adder(app)
    adder.add(urls.openapi_url, docs.openapi_json, "openapi")
    if urls.docs_url:
        base = docs.docs_base
        adder.add(urls.docs_url, docs.swagger_ui, "swagger_ui_html")
        adder.add(base + "/oauth2-redirect", docs.swagger_redirect, "swagger_ui_redirect")
        adder.add(base + "/static/{name}", docs.swagger_static, "swagger_ui_static")
        if docs.csrf_header is not None:
            adder.add(base + "/csrf", docs.csrf_token, "swagger_ui_csrf")
    if urls.redoc_url:
        adder.add(urls.redoc_url, docs.redoc, "redoc_html")
        if config.redoc_js_file is not None:
            script = urls.redoc_url.rstrip("/") + "/redoc.standalone.js"
            adder.add(script, docs.redoc_js, "redoc_js")


def _escape(text: str) -> str:
    # `html` drags in its 2,000-entry entity table: import it when a page is rendered.
    from html import escape

    return escape(text)
