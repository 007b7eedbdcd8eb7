"""`starlette.status` on trivium: the HTTP and WebSocket status code constants."""

from __future__ import annotations

from trivium.status import *  # noqa: F403 - the module is a list of constants
from trivium.status import __all__ as __all__
