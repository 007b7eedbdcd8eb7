"""Routing: routers, routes, mounts and the compiled path trie."""

from __future__ import annotations

from trivium.routing._dispatch import NoMatchFound
from trivium.routing._options import RouteOptions
from trivium.routing._route import BaseRoute
from trivium.routing._route import Route
from trivium.routing._router import Router
from trivium.routing._router import merge_options
from trivium.routing._stream import is_generator_handler
from trivium.routing._stream import stream_item_type
from trivium.routing._trie import CONVERTERS
from trivium.routing._trie import Converter
from trivium.routing._ws_route import Mount
from trivium.routing._ws_route import WebSocketRoute

__all__ = [
    "CONVERTERS",
    "BaseRoute",
    "Converter",
    "Mount",
    "NoMatchFound",
    "Route",
    "RouteOptions",
    "Router",
    "WebSocketRoute",
    "is_generator_handler",
    "merge_options",
    "stream_item_type",
]
