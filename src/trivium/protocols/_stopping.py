"""Stopping server workers: the streams in flight end, and how long a worker may take.

A stopping server waits for the responses in flight before its workers exit, so an
endless stream (server-sent events, a long poll) would hold it until the kill timeout.
The worker's `SIGTERM`/`SIGINT` handler is wrapped: the signal first schedules
`stop_streams()` on the serving loop (event streams end cleanly, so browsers reconnect
to another worker; other streams are cut), then goes on to the server's own handler.

Two things would keep a stopping Granian worker alive until the kill timeout (or for
ever, without one); `stop_workers_reliably` mends both:

- A second stop signal that arrives before the worker serves (Ctrl-C sends SIGINT to the
  whole process group, then the supervisor sends SIGTERM) blocks the worker's loop:
  Granian's handler puts each signal in a channel of one place that only the serving
  worker reads. Each worker's handler now passes on the first signal only.
- A worker still starting up (importing the app) runs the supervisor's handler, which it
  inherited and which does nothing there: the signal is lost. The supervisor now asks
  the workers still alive again, every half second, while it waits for them.

Also, a worker that got the signal itself and stopped before the supervisor asked it to
no longer counts as crashed (which made the server exit with status 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from typing import Any

from trivium.http import stop_streams

__all__ = [
    "RELOAD_KILL",
    "end_streams_on_stop",
    "kill_timeout",
    "pass_one_stop_signal",
    "stop_workers_reliably",
]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)

RELOAD_KILL = 3.0
"""Seconds a reloading development server gives a worker to stop before killing it."""


ASK_AGAIN_EVERY = 0.5
"""Seconds between two stop requests to a worker that has not stopped yet."""


def stop_workers_reliably(server: Any) -> None:
    """Have Granian's `server` stop its workers reliably (see the module docstring).

    Its workers (forked from this process) pass on one stop signal only, so asking
    again is harmless to a worker already stopping; the kill timeout still bounds the
    wait.
    """
    pass_one_stop_signal()
    interrupt = server.signal_handler_interrupt
    stop_workers = server._stop_workers

    def interrupted(*args: Any) -> None:
        # A signal sent to the process group (Ctrl-C, `systemctl stop`) reaches the
        # workers too: one that stopped before this process asked it to would count as
        # crashed, and the server would exit with status 1.
        for worker in list(server.wrks):
            worker.interrupt_by_parent = True
        interrupt(*args)

    def stop_and_ask_again() -> None:
        stopped = threading.Event()

        def ask_again() -> None:
            while not stopped.wait(ASK_AGAIN_EVERY):
                for worker in list(server.wrks):
                    if worker.is_alive():
                        worker.terminate()

        thread = threading.Thread(target=ask_again, name="trivium-stop-workers", daemon=True)
        thread.start()
        try:
            stop_workers()
        finally:
            stopped.set()
            thread.join()

    server.signal_handler_interrupt = interrupted
    server._stop_workers = stop_and_ask_again


def pass_one_stop_signal() -> None:
    """Make the stop-signal handlers Granian installs in its workers pass on one signal.

    Call it in the supervisor before it forks its workers, or in a worker before its
    server sets up its loop. Does nothing if Granian's internals are not as expected.
    """
    try:
        from granian import _signals
    except ImportError:  # pragma: no cover - Granian is optional
        return
    install = getattr(_signals, "set_loop_signals", None)
    if install is None or getattr(install, "passes_one_signal", False):
        return

    def set_loop_signals(loop: asyncio.AbstractEventLoop) -> Any:
        event = install(loop)
        passed = False

        def handler(number: int, frame: Any) -> None:
            nonlocal passed
            if not passed:
                passed = True
                event.set()

        with contextlib.suppress(NotImplementedError):  # no loop handlers: Granian's stay
            for number in _SIGNALS:
                loop.add_signal_handler(number, handler, number, None)
        return event

    set_loop_signals.passes_one_signal = True  # type: ignore[attr-defined]
    _signals.set_loop_signals = set_loop_signals


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
