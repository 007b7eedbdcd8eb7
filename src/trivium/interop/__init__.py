"""Interop: mount legacy WSGI/ASGI apps, share their logins, migrate route by route.

`WSGIApp` serves a Flask or Django app (any WSGI callable) as ASGI with its own bounded
thread pool and streamed bodies; `Legacy` is the plugin that puts such an app behind the
app's routes as their fallback and builds routers whose routes switch between trivium
and the legacy app (percentage, canary header, shadow mode). `DjangoLogin` and
`FlaskLogin` make a legacy login the trivium `request.user` (they need the `auth` and
`db` extras and are imported on first use). See docs/interop.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from trivium.interop._legacy import Legacy
from trivium.interop._legacy import MigratedRoute
from trivium.interop._legacy import Switch
from trivium.interop._shadow import ShadowReport
from trivium.interop._wsgi import ClientDisconnectedError
from trivium.interop._wsgi import WSGIApp

if TYPE_CHECKING:
    from trivium.interop._django import DjangoLogin
    from trivium.interop._login import FlaskLogin
    from trivium.interop._login import SharedLogin

__all__ = [
    "ClientDisconnectedError",
    "DjangoLogin",
    "FlaskLogin",
    "Legacy",
    "MigratedRoute",
    "ShadowReport",
    "SharedLogin",
    "Switch",
    "WSGIApp",
]

_LAZY = {
    "DjangoLogin": "trivium.interop._django",
    "FlaskLogin": "trivium.interop._login",
    "SharedLogin": "trivium.interop._login",
}


def __getattr__(name: str) -> Any:
    """Import the shared-login plugins (they need SQLAlchemy and auth) on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trivium.interop' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
