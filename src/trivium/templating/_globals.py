"""Functions every template can call: `url_for`, `static_url`, `csrf_token`, flashes.

They are environment globals that read the request from the render context instead of
holding it, so one environment serves every request without per-request state leaking
between them. `Templates.render` puts `request` and `csp_nonce` into each render's
context; templates pulled in with `{% include %}` see them too, and macros imported with
`{% import "x.html" as x with context %}` do (a plain `import` has no render context).
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from typing import Any

import jinja2
from markupsafe import Markup
from markupsafe import escape

from trivium.http import HTTPConnection
from trivium.middleware import csp_nonce
from trivium.templating import _flash

__all__ = ["TEMPLATE_GLOBALS", "csp_nonce_of"]


def csp_nonce_of(request: HTTPConnection) -> str:
    """Return the request's CSP nonce (set by `SecurityHeadersMiddleware`), or `""`."""
    return csp_nonce(request.scope)


def _request(context: jinja2.runtime.Context, function: str) -> HTTPConnection:
    request = context.get("request")
    if not isinstance(request, HTTPConnection):
        raise RuntimeError(
            f"{function}() needs the request in the template context: render with "
            "Templates.render(request, ...), and import macros that use it 'with context'"
        )
    return request


@jinja2.pass_context
def url_for(context: jinja2.runtime.Context, name: str, /, **params: Any) -> str:
    """Return the URL path of the route called `name`, with `params` filled in."""
    request = _request(context, "url_for")
    root: str = request.scope.get("root_path", "")
    return root + request.app.url_path_for(name, **params)


@jinja2.pass_context
def static_url(context: jinja2.runtime.Context, path: str, name: str = "static") -> str:
    """Return the content-versioned URL of static file `path` (see `trivium.staticfiles`)."""
    request = _request(context, "static_url")
    from trivium.staticfiles import static_url as build

    return build(request, path, name)


@jinja2.pass_context
def csrf_token(context: jinja2.runtime.Context) -> str:
    """Return the CSRF token of this client (from `trivium.csrf`)."""
    request = _request(context, "csrf_token")
    # Imported here: trivium.csrf is another battery, loaded only by apps that use it.
    module = importlib.import_module("trivium.csrf")
    return str(module.get_csrf_token(request))


@jinja2.pass_context
def csrf_input(context: jinja2.runtime.Context) -> Markup:
    """Return a hidden `<input>` carrying the CSRF token, for HTML forms.

    Its name is the one the app's `CSRFMiddleware` reads (`field_name=`).
    """
    token = csrf_token(context)
    name = importlib.import_module("trivium.csrf").csrf_field_name(_request(context, "csrf_input"))
    return Markup('<input type="hidden" name="{}" value="{}">').format(name, escape(token))


@jinja2.pass_context
def get_flashed_messages(
    context: jinja2.runtime.Context,
    with_levels: bool = False,
    level_filter: Collection[str] = (),
) -> list[str] | list[tuple[str, str]]:
    """Return the flashed messages (see `trivium.templating.get_flashed_messages`)."""
    request = _request(context, "get_flashed_messages")
    if with_levels:
        return _flash.get_flashed_messages(request, with_levels=True, level_filter=level_filter)
    return _flash.get_flashed_messages(request, level_filter=level_filter)


TEMPLATE_GLOBALS: dict[str, Any] = {
    "csrf_input": csrf_input,
    "csrf_token": csrf_token,
    "get_flashed_messages": get_flashed_messages,
    "static_url": static_url,
    "url_for": url_for,
}
"""The request-aware functions added to every `Templates` environment."""
