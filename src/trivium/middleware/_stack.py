"""The user's middleware, composed once around the dispatcher.

The first listed is outermost. The outermost layer of all, which checks the `Host`
header, adds the default headers and turns escaping exceptions into responses, is the
edge (`trivium.middleware._edge`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trivium.types import ASGIApp

__all__ = ["Middleware", "build_stack"]


class Middleware:
    """A middleware class and the options to build it with: `Middleware(CORSMiddleware, ...)`."""

    __slots__ = ("args", "cls", "kwargs")

    def __init__(self, cls: Any, *args: Any, **kwargs: Any) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def build(self, app: ASGIApp) -> ASGIApp:
        """Instantiate the middleware around `app`."""
        return self.cls(app, *self.args, **self.kwargs)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Middleware({getattr(self.cls, '__name__', self.cls)})"


def build_stack(inner: ASGIApp, middleware: Sequence[Middleware]) -> ASGIApp:
    """Compose `middleware` around `inner`, the first item outermost."""
    stack = inner
    for item in reversed(middleware):
        stack = item.build(stack)
    return stack
