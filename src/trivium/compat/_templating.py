"""`Jinja2Templates`: Starlette's templates API over trivium's `Templates`.

As in Starlette, `url_for` in a template returns the absolute URL of a route or a
mount (`url_for('static', path='/app.css')`), a `URL` whose `.path` is the path alone;
context processors add to every template's context; and a `TemplateResponse` keeps its
`template` and `context`, which it reports through the ASGI `http.response.debug`
extension to a test client that asks for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import jinja2

from trivium.http import URL
from trivium.http import HTTPConnection
from trivium.responses import Response
from trivium.templating import TemplateResponse
from trivium.templating import Templates
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["Jinja2Templates"]

ContextProcessor = Callable[[Any], Mapping[str, Any]]
StrPath = str | os.PathLike[str]


@jinja2.pass_context
def url_for(context: jinja2.runtime.Context, name: str, /, **path_params: Any) -> URL:
    """Return the absolute URL of the route or mount called `name` (Starlette's `url_for`)."""
    request: HTTPConnection = context["request"]
    return request.url_for(name, **path_params)


class _TemplateResponse(TemplateResponse):
    """A template response that keeps its `template` and `context` (Starlette's attributes)."""

    __slots__ = ("context", "template")

    template: jinja2.Template
    """The template rendered."""
    context: dict[str, Any]
    """The context it is rendered with, `request` and the context processors' names too."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Report the template and context to a client that asks for them, then send."""
        if "http.response.debug" in scope.get("extensions", {}):
            info = {"template": self.template, "context": self.context}
            await send({"type": "http.response.debug", "info": info})
        await super().__call__(scope, receive, send)


class Jinja2Templates(Templates):
    """Starlette's templates: `Jinja2Templates(directory=...)` or `Jinja2Templates(env=...)`.

    `TemplateResponse(request, name, context)` renders a template; the old form,
    `TemplateResponse(name, {"request": request, ...})`, works too.

    Args:
        directory: the template directory (or several).
        context_processors: callables taking the request and returning names every
            template's context gets (they win over the context given).
        env: a Jinja environment of your own, used as it is (`url_for` is added to its
            globals unless it has one).

    Raises:
        TypeError: neither or both of `directory` and `env` are given.
    """

    def __init__(
        self,
        directory: StrPath | Sequence[StrPath] | None = None,
        *,
        context_processors: Sequence[ContextProcessor] | None = None,
        env: jinja2.Environment | None = None,
    ) -> None:
        if (directory is None) == (env is None):
            raise TypeError("Jinja2Templates takes either directory=... or env=..., not both")
        super().__init__(directory)
        if env is not None:
            self.environment = env
            env.globals.setdefault("url_for", url_for)
        else:
            self.environment.globals["url_for"] = url_for
        self.context_processors = list(context_processors or ())
        """Callables adding names to every template's context (Starlette's attribute)."""

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
        """Return an HTML response rendering template `name` with `context`.

        Raises:
            TypeError: no request or no template name.
            jinja2.TemplateNotFound: no such template.
        """
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
        data = dict(context or {})
        data.setdefault("request", request)
        for processor in self.context_processors:
            data.update(processor(request))
        template = self.get_template(name)
        response = _TemplateResponse(
            self, request, template, data, status_code=status_code, headers=headers
        )
        response.template = template
        response.context = data
        if media_type is not None:
            response.headers["content-type"] = media_type
        response.background = background
        return response
