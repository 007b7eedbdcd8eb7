"""Dependency injection: `Depends`, scopes and resolution outside requests (`App.resolve`)."""

from __future__ import annotations

from trivium.di._depends import DependencyScope
from trivium.di._depends import Depends
from trivium.di._depends import Security
from trivium.di._depends import SecurityScopes

__all__ = ["DependencyScope", "Depends", "Security", "SecurityScopes"]
