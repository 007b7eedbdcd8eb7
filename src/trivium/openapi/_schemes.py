"""Refuse, when the app starts, two different security schemes documented under one name.

The document keys security schemes by name (`components.securitySchemes`); two
dependencies that carry different schemes under one name (an `OAuth2PasswordBearer` with
scopes and another without) cannot both be documented. The document refuses them when it
is built; this check finds them while the routes are compiled, from the dependencies each
route runs, so the error comes at start-up rather than with the first request for
`/openapi.json`. It costs one attribute look-up per dependency, once per route.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import ConfigurationError
from trivium.openapi._security import SecurityRequirement
from trivium.routing import Route

if TYPE_CHECKING:
    from trivium.plugins import RouteNeeds

__all__ = ["SchemeCheck"]


class SchemeCheck:
    """The security schemes seen so far in one app's documented routes, by name."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: dict[str, tuple[Mapping[str, Any], str]] = {}
        """Each scheme name's scheme and the route it was first seen on."""
        self._documented: dict[tuple[str, int], bool] = {}
        self._overridden: frozenset[str] | None = None

    def check(self, needs: RouteNeeds) -> None:
        """Record the schemes of a compiled route's dependencies; raise on a conflict.

        Raises:
            ConfigurationError: another documented route uses a different scheme under
                the same name, and the app declares no scheme of that name that would
                replace both (`openapi-security-scheme-conflict`).
        """
        if needs.websocket or needs.fallback:
            return
        for call in needs.dependencies:
            value = getattr(call, "__openapi_security__", None)
            if not isinstance(value, tuple):
                continue
            requirement = SecurityRequirement(*value)
            label = f"{', '.join(needs.methods)} {needs.path}"
            known = self.seen.get(requirement.name)
            if known is None:
                if self._is_documented(needs):
                    self.seen[requirement.name] = (requirement.scheme, label)
            elif known[0] != requirement.scheme and self._conflicts(requirement.name, needs):
                raise ConfigurationError(
                    f"two different security schemes are both named {requirement.name!r}: "
                    f"{dict(known[0])} ({known[1]}) and {dict(requirement.scheme)} "
                    f"({label}); give one of them another scheme_name=...",
                    "openapi-security-scheme-conflict",
                )

    def _conflicts(self, name: str, needs: RouteNeeds) -> bool:
        if not self._is_documented(needs):
            return False
        if self._overridden is None:  # read once, when a conflict is first suspected
            from trivium.openapi._config import scheme_overrides

            self._overridden = frozenset(scheme_overrides(self.app))
        return name not in self._overridden

    def _is_documented(self, needs: RouteNeeds) -> bool:
        key = (needs.path, id(needs.endpoint))
        if key not in self._documented:  # a route added since the last look
            self._documented = {
                (route.path, id(route.endpoint)): route.options.get("include_in_schema", True)
                for route in self.app.routes
                if isinstance(route, Route)
            }
        return self._documented.get(key, True)
