"""Serve trivium apps: the ASGI and RSGI protocol entry points and the server launcher."""

from __future__ import annotations

from trivium.protocols._server import Interface
from trivium.protocols._server import LogLevel
from trivium.protocols._server import ServerConfig
from trivium.protocols._server import ServerName
from trivium.protocols._server import ServerOptions
from trivium.protocols._server import serve

__all__ = ["Interface", "LogLevel", "ServerConfig", "ServerName", "ServerOptions", "serve"]
