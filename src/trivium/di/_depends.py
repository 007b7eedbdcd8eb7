"""The `Depends` marker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import Literal

__all__ = ["DependencyScope", "Depends"]

DependencyScope = Literal["function", "request", "app"]


class Depends:
    """Declare that a parameter's value comes from calling `dependency`.

    `dependency` may be a plain or async function, a (async) generator function whose code
    after `yield` is the teardown, or a class. Its own parameters are resolved the same
    way as a handler's: request parameters, other dependencies, `Request`, and so on.

    Args:
        dependency: the callable; `None` means "the annotated type itself".
        use_cache: reuse one value when several places in a request depend on the same
            callable (the default), or call it again for each.
        scope: when a generator's teardown runs: `"request"` (default) after the
            response is sent, `"function"` right after the handler returns and before the
            response is sent, `"app"` once per application: created on first use and torn
            down at shutdown, shared by every request. Left out, the dependency's own
            `__trivium_scope__` attribute decides (a library can declare that its
            session commits before the response), else `"request"`.
    """

    __slots__ = ("dependency", "scope", "use_cache")

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        use_cache: bool = True,
        scope: DependencyScope | None = None,
    ) -> None:
        if scope is not None and scope not in ("function", "request", "app"):
            from trivium.errors import ConfigurationError

            raise ConfigurationError(
                f"Depends(scope={scope!r}): scope must be 'function', 'request' or 'app'",
                "depends-scope",
            )
        self.dependency = dependency
        self.use_cache = use_cache
        self.scope: DependencyScope | None = scope

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", repr(self.dependency))
        return f"Depends({name})"
