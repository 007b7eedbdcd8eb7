"""`app.dependency_overrides`: a dict that tells the routes when it changes.

Routes compile their dependency plans once; an override changes what they must call, so
every mutating method bumps `version` and routes recompile on their next request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["DependencyOverrides"]


class DependencyOverrides(dict[Callable[..., Any], Callable[..., Any]]):
    """`app.dependency_overrides`: replace a dependency by another (tests, local setups).

    Routes recompile themselves on their next request after a change.
    """

    version = 0

    def _changed(self) -> None:
        self.version += 1

    def __setitem__(self, key: Callable[..., Any], value: Callable[..., Any]) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: Callable[..., Any]) -> None:
        super().__delitem__(key)
        self._changed()

    def clear(self) -> None:
        """Remove every override."""
        super().clear()
        self._changed()

    def pop(self, key: Any, *default: Any) -> Any:
        """Remove one override and return it."""
        value = super().pop(key, *default)
        self._changed()
        return value

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Add several overrides."""
        super().update(*args, **kwargs)
        self._changed()

    def __ior__(self, other: Any) -> DependencyOverrides:  # type: ignore[override,misc]
        """Add several overrides (`app.dependency_overrides |= {...}`)."""
        self.update(other)
        return self

    def setdefault(self, key: Callable[..., Any], default: Any = None) -> Any:
        """Add an override unless `key` already has one; return the override in place."""
        if key not in self:
            self[key] = default
        return self[key]

    def popitem(self) -> tuple[Callable[..., Any], Callable[..., Any]]:
        """Remove and return the last override added."""
        item = super().popitem()
        self._changed()
        return item
