"""The plugin protocol: how batteries and third-party packages extend an app.

See `Plugin` and docs/plugins.md.
"""

from __future__ import annotations

from trivium.plugins._plugin import Gate
from trivium.plugins._plugin import Observer
from trivium.plugins._plugin import Plugin
from trivium.plugins._plugin import RequestStep
from trivium.plugins._plugin import RouteNeeds

__all__ = ["Gate", "Observer", "Plugin", "RequestStep", "RouteNeeds"]
