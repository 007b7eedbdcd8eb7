"""Stopping server workers: the streams in flight end, and how long a worker may take.

A stopping server waits for the responses in flight before its workers exit, so an
endless stream (server-sent events, a long poll) would hold it until the kill timeout.
The worker's `SIGTERM`/`SIGINT` handler is wrapped: the signal first schedules
`stop_streams()` on the serving loop (event streams end cleanly, so browsers reconnect
to another worker; other streams are cut), then goes on to the server's own handler.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from trivium.http import stop_streams

__all__ = ["RELOAD_KILL", "end_streams_on_stop", "kill_timeout"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)

RELOAD_KILL = 3.0
"""Seconds a reloading development server gives a worker to stop before killing it."""


def kill_timeout(seconds: float | None) -> int | None:
    """Granian's `workers_kill_timeout` (whole seconds, at least 1) for `seconds`."""
    return None if seconds is None else max(1, round(seconds))


def end_streams_on_stop(loop: asyncio.AbstractEventLoop) -> None:
    """Wrap this process's stop signals' handlers to end the streams `loop` serves.

    Call it in the worker, on the thread that may set signal handlers (the main one);
    elsewhere it does nothing.
    """
    for number in _SIGNALS:
        try:
            previous = signal.getsignal(number)
            signal.signal(number, _Handler(loop, previous))
        except (ValueError, OSError):  # not the main thread: the server's handlers stay
            return


class _Handler:
    __slots__ = ("loop", "previous")

    def __init__(self, loop: asyncio.AbstractEventLoop, previous: Any) -> None:
        self.loop = loop
        self.previous = previous

    def __call__(self, number: int, frame: Any) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(stop_streams)
        previous = self.previous
        if callable(previous):
            previous(number, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(number, signal.SIG_DFL)
            signal.raise_signal(number)
