"""The `trivium shell` console: a Python REPL where `await` works at the prompt.

Like `python -m asyncio`: an event loop runs in the main thread and the console reads
lines in a second thread; each statement is compiled with top-level `await` allowed,
and a statement that is a coroutine runs on the loop, where the app's lifespan, its
database engine and the session live.
"""

from __future__ import annotations

import ast
import asyncio
import code
import concurrent.futures
import contextlib
import inspect
import sys
import threading
import types
from typing import Any

__all__ = ["run_repl"]


class _Console(code.InteractiveConsole):
    def __init__(self, namespace: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(namespace)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.loop = loop

    def runcode(self, code_object: types.CodeType) -> None:
        """Run one statement; a coroutine (a statement with `await`) runs on the loop."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def call() -> None:
            try:
                result = types.FunctionType(code_object, self.locals)()
            except BaseException as exc:  # noqa: BLE001 - shown like the REPL shows it
                future.set_exception(exc)
                return
            if not inspect.iscoroutine(result):
                future.set_result(result)
                return
            task = self.loop.create_task(result)
            task.add_done_callback(lambda done: _settle(future, done))

        self.loop.call_soon_threadsafe(call)
        try:
            future.result()
        except SystemExit:
            raise
        except BaseException:  # noqa: BLE001 - a failed statement shows its traceback
            self.showtraceback()


def _settle(future: concurrent.futures.Future[Any], task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


def run_repl(app: Any, *, startup: bool = True) -> None:
    """Run the console with `app` (and its settings, database and a session) in scope."""
    loop = asyncio.new_event_loop()
    namespace: dict[str, Any] = {"app": app, "asyncio": asyncio, "__name__": "__console__"}
    stack = contextlib.AsyncExitStack()
    loop.run_until_complete(_enter(app, namespace, stack, startup))
    console = _Console(namespace, loop)
    banner = (
        f"trivium shell, Python {sys.version.split()[0]}: use 'await' directly.\n"
        f"In scope: {', '.join(sorted(k for k in namespace if not k.startswith('__')))}"
    )

    def interact() -> None:
        try:
            console.interact(banner=banner, exitmsg="")
        finally:
            loop.call_soon_threadsafe(loop.stop)

    thread = threading.Thread(target=interact, daemon=True)
    thread.start()
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(stack.aclose())
        loop.close()


async def _enter(
    app: Any, namespace: dict[str, Any], stack: contextlib.AsyncExitStack, startup: bool
) -> None:
    if startup:
        await stack.enter_async_context(app.lifespan_context())
    if "trivium.conf" in sys.modules:
        from trivium.conf import Settings

        found = app.plugins_of(Settings)
        if found:
            namespace["settings"] = found[0]
    if "trivium.db" in sys.modules:
        from trivium.db import Database

        databases = app.plugins_of(Database)
        if databases:
            namespace["db"] = databases[0]
            namespace["session"] = await stack.enter_async_context(databases[0].sessionmaker())
