"""`Jinja2Templates`: Starlette's templates API over trivium's `Templates`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2

from trivium.http import HTTPConnection
from trivium.responses import Response
from trivium.templating import Templates

__all__ = ["Jinja2Templates"]


class Jinja2Templates(Templates):
    """Templates with Starlette's `TemplateResponse(request, name, context)` method.

    The old form, `TemplateResponse(name, {"request": request, ...})`, works too.
    """

    @property
    def env(self) -> jinja2.Environment:
        """The Jinja environment (Starlette's name for it)."""
        return self.environment

    def TemplateResponse(  # noqa: N802, PLR0913 - Starlette's method name and options
        self,
        *args: Any,
        name: str | None = None,
        context: Mapping[str, Any] | None = None,
        request: HTTPConnection | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Any = None,
    ) -> Response:
        """Return an HTML response rendering template `name` with `context`."""
        if args and isinstance(args[0], str):  # the old (name, context) form
            name = args[0]
            context = args[1] if len(args) > 1 else context
            request = (context or {}).get("request", request)
        elif args:
            request = args[0]
            name = args[1] if len(args) > 1 else name
            context = args[2] if len(args) > 2 else context
        if request is None or name is None:
            raise TypeError("TemplateResponse needs a request and a template name")
        data = {k: v for k, v in (context or {}).items() if k != "request"}
        response = self.response(request, name, data, status_code=status_code, headers=headers)
        if media_type is not None:
            response.headers["content-type"] = media_type
        response.background = background
        return response
