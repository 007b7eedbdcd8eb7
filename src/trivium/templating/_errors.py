"""HTML error pages for browsers, JSON for everyone else.

`install_error_pages` registers one exception handler per status. A request whose
`Accept` header ranks `text/html` above `application/json` (what browsers send) gets
`errors/<status>.html`, or `errors/base.html` when there is no page for that status;
other clients get the usual `{"detail": ...}`. The headers of an `HTTPException`
(`Allow`, `WWW-Authenticate`...) are kept either way.

A 500 page never shows the exception; the error is re-raised after the page is sent, as
with any handler of `500`, so the server logs it and the test client raises it. An app in
debug mode keeps the core's traceback page, so the 500 handler is not installed there.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.http import HTTPConnection
from trivium.http import JSONResponse
from trivium.http import Request
from trivium.http import Response

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.templating._templates import Templates

__all__ = ["DEFAULT_ERROR_STATUSES", "install_error_pages", "prefers_html"]

DEFAULT_ERROR_STATUSES = (400, 403, 404, 405, 500)
"""The statuses that get an HTML page unless told otherwise."""

logger = logging.getLogger("trivium.error")

_HTML_TYPES = (("text", "html"), ("application", "xhtml+xml"))


def prefers_html(request: HTTPConnection) -> bool:
    """Return whether the client's `Accept` header ranks HTML above JSON.

    Browsers list `text/html` first and everything else (`*/*`) lower, so they get
    HTML; `*/*` alone, a missing header or `application/json` get JSON, which suits API
    clients, `fetch()` and command-line tools.
    """
    accept = request.headers.get("accept")
    if not accept:
        return False
    ranges = _parse_accept(accept)
    html = max(_quality(ranges, kind, sub) for kind, sub in _HTML_TYPES)
    return html > 0 and html > _quality(ranges, "application", "json")


def _parse_accept(accept: str) -> list[tuple[str, str, float]]:
    ranges = []
    for item in accept.split(","):
        media, _, params = item.partition(";")
        kind, _, sub = media.strip().lower().partition("/")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if kind and sub:
            ranges.append((kind, sub, quality))
    return ranges


def _quality(ranges: list[tuple[str, str, float]], kind: str, sub: str) -> float:
    # The most specific matching range decides (RFC 9110, section 12.5.1).
    best = (-1, 0.0)
    for range_kind, range_sub, quality in ranges:
        if range_kind == kind and range_sub == sub:
            specificity = 2
        elif range_kind == kind and range_sub == "*":
            specificity = 1
        elif range_kind == "*" and range_sub == "*":
            specificity = 0
        else:
            continue
        if specificity > best[0]:
            best = (specificity, quality)
    return best[1]


def install_error_pages(
    app: App, templates: Templates, statuses: Sequence[int] = DEFAULT_ERROR_STATUSES
) -> None:
    """Answer the errors of `statuses` with HTML pages when the client prefers HTML.

    A status that already has a handler on the app keeps it. With `debug=True` the 500
    handler is left out, so the core's traceback page stays.

    Raises:
        ConfigurationError: a status is not an error status from 400 to 599
            (`error-page-status`).
    """
    handler = _ErrorPages(templates)
    for status in statuses:
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ConfigurationError(
                f"error page status {status!r} is not an HTTP error status (400-599)",
                "error-page-status",
            )
        if status == 500 and app.debug:
            continue
        if status not in app.exception_handlers:
            app.add_exception_handler(status, handler)


class _ErrorPages:
    __slots__ = ("templates",)

    def __init__(self, templates: Templates) -> None:
        self.templates = templates

    async def __call__(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            status, detail, headers = exc.status_code, exc.detail, exc.headers
        else:
            status, detail, headers = 500, "Internal Server Error", None
        if not prefers_html(request):
            return JSONResponse({"detail": detail}, status, headers)
        title = _phrase(status)
        context: dict[str, Any] = {
            "status_code": status,
            "title": title,
            "detail": detail if isinstance(detail, str) and detail != title else None,
        }
        names = [f"errors/{status}.html", "errors/base.html"]
        try:
            return await self.templates.render(
                request, names, context, status_code=status, headers=headers
            )
        except Exception:
            logger.exception("the error page for status %s failed to render", status)
            return JSONResponse({"detail": detail}, status, headers)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"
