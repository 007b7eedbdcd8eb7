"""The `trivium` command line.

`main` is the click group installed as the `trivium` console script. Batteries add their
subcommands lazily through `BATTERY_COMMANDS` (see `trivium.cli._main` and docs/cli.md).
"""

from __future__ import annotations

from trivium.cli._loader import APP_ENV
from trivium.cli._loader import load_app
from trivium.cli._main import BATTERY_COMMANDS
from trivium.cli._main import LazyCommand
from trivium.cli._main import LazyGroup
from trivium.cli._main import main

__all__ = ["APP_ENV", "BATTERY_COMMANDS", "LazyCommand", "LazyGroup", "load_app", "main"]
