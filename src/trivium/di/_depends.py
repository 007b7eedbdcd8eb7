"""The `Depends` marker."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Literal

__all__ = ["DependencyScope", "Depends", "Security", "SecurityScopes"]

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


class Security(Depends):
    """`Depends` that also requires OAuth2 `scopes` (documented, and given to `SecurityScopes`).

    The scopes add up along the dependency chain: a dependency taking a `SecurityScopes`
    parameter receives every scope required by the `Security(...)` markers above it.
    """

    __slots__ = ("scopes",)

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
        scope: DependencyScope | None = None,
    ) -> None:
        super().__init__(dependency, use_cache=use_cache, scope=scope)
        self.scopes: tuple[str, ...] = tuple(scopes or ())


class SecurityScopes:
    """Inject the scopes required by the `Security(...)` chain leading to a dependency."""

    __slots__ = ("scopes",)

    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes or [])
        """The required scopes, outermost first, without repeats."""

    @property
    def scope_str(self) -> str:
        """The scopes separated by spaces (for a `WWW-Authenticate` header)."""
        return " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"
