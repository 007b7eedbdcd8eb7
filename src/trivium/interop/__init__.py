"""Interop: mount legacy WSGI/ASGI apps and migrate from them route by route.

`WSGIApp` serves a Flask or Django app (any WSGI callable) as ASGI with its own bounded
thread pool and streamed bodies; `Legacy` is the plugin that puts such an app behind the
app's routes as their fallback and builds routers whose routes switch between trivium
and the legacy app (percentage, canary header, shadow mode). See docs/interop.md.
"""

from __future__ import annotations

from trivium.interop._legacy import Legacy
from trivium.interop._legacy import MigratedRoute
from trivium.interop._legacy import Switch
from trivium.interop._shadow import ShadowReport
from trivium.interop._wsgi import WSGIApp

__all__ = ["Legacy", "MigratedRoute", "ShadowReport", "Switch", "WSGIApp"]
