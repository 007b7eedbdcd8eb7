"""`starlette.status`: HTTP and websocket status code constants."""

from __future__ import annotations

from trivium.status import *  # noqa: F403 - the module's names are its API
from trivium.status import __all__  # noqa: F401 - re-exported as this module's own
