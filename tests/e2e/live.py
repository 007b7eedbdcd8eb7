"""Run an app behind a real server (Granian RSGI or ASGI, uvicorn) for the live tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tests import live

SERVER_ARGS = [["--interface", "rsgi"], ["--interface", "asgi"], ["--server", "uvicorn"]]
"""The command-line options of each server the live tests run against."""
SERVER_IDS = ["rsgi", "asgi", "uvicorn"]


@contextlib.contextmanager
def serving(target: str, args: list[str]) -> Iterator[str]:
    """Run `trivium run target` on a free port and yield its base URL."""
    with live.trivium_run(target, *args, ready_path="/plaintext", timeout=20) as server:
        yield server.url
