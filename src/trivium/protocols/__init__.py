"""Serve trivium apps: the ASGI and RSGI protocol entry points and the server launcher.

The launcher (`serve` and its option types) lives in `trivium.protocols._server`, which
pulls in `multiprocessing`, `subprocess` and `pickle`. A serving worker never needs it,
so it is imported on first use of one of these names rather than with `trivium`.

    from trivium.protocols import ServerConfig

    config = ServerConfig(port=8080)
    assert config.interface is None or config.interface in ("rsgi", "asgi")
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from trivium.protocols._server import Interface
    from trivium.protocols._server import LogFormat
    from trivium.protocols._server import LogLevel
    from trivium.protocols._server import ServerConfig
    from trivium.protocols._server import ServerName
    from trivium.protocols._server import ServerOptions
    from trivium.protocols._server import serve

__all__ = [
    "Interface",
    "LogFormat",
    "LogLevel",
    "ServerConfig",
    "ServerName",
    "ServerOptions",
    "serve",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from trivium.protocols import _server

        value = getattr(_server, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'trivium.protocols' has no attribute {name!r}")
