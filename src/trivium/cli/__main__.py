"""Run the `trivium` command as `python -m trivium.cli`."""

from __future__ import annotations

from trivium.cli import main

main(prog_name="trivium")
