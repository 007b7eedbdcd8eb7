"""Drive the ASGI lifespan protocol for the test clients.

The app gets a `lifespan` scope carrying a `state` dict (the ASGI lifespan-state
extension); whatever it puts there during start-up is copied into every connection scope.
An app that does not speak the protocol (it raises before its first `receive()`, or
returns without answering) is treated as having no lifespan, as servers do.
"""

from __future__ import annotations

import math
from typing import Any

import anyio

from trivium.errors import TriviumError
from trivium.testing._exchange import CLOSE_GRACE
from trivium.testing._exchange import AppTask
from trivium.testing._exchange import TestConfig
from trivium.types import Message

__all__ = ["LifespanError", "LifespanRunner"]


class LifespanError(TriviumError):
    """The app reported a failed lifespan start-up or shutdown (the message is the app's)."""


class LifespanRunner(AppTask):
    """One run of the app's lifespan: start-up, then shutdown."""

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__()
        self.scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": state,
        }
        """The lifespan scope."""
        self.supported = True
        """Whether the app speaks the lifespan protocol."""
        self._to_app, self._app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        self._to_client, self._from_app = anyio.create_memory_object_stream[Message](math.inf)
        self._to_app.send_nowait({"type": "lifespan.startup"})  # queued: the app may exit early
        self._received = False

    async def run_app(self, config: TestConfig) -> None:
        """Run the app's lifespan until shutdown."""
        await self.run(config, self.scope, self._receive, self._send)

    def _finished(self) -> None:
        self._to_client.close()
        self._app_inbox.close()

    async def _receive(self) -> Message:
        self._received = True
        try:
            return await self._app_inbox.receive()
        except anyio.EndOfStream:
            await anyio.sleep_forever()  # nothing follows shutdown; wait to be cancelled
            raise  # pragma: no cover - unreachable

    async def _send(self, message: Message) -> None:
        await self._to_client.send(message)

    async def _answer(self) -> Message | None:
        try:
            return await self._from_app.receive()
        except anyio.EndOfStream:
            return None

    async def startup(self) -> None:
        """Send `lifespan.startup` and wait for the app's answer.

        Raises:
            Exception: the app's own exception when its start-up raised.
            LifespanError: the app reported `lifespan.startup.failed` without raising.
        """
        answer = await self._answer()
        if answer is None:
            await self.wait(None)
            self._release()
            if self.error is not None and self._received:
                raise self.error
            self.supported = False  # raised before receiving, or returned: no lifespan
            self.error = None
            return
        if answer["type"] != "lifespan.startup.complete":
            await self._fail(answer, "startup")

    async def shutdown(self) -> None:
        """Send `lifespan.shutdown` and wait for the app to finish.

        Raises:
            Exception: the app's own exception when its shutdown raised.
            LifespanError: the app reported `lifespan.shutdown.failed` without raising.
        """
        if not self.supported:
            return
        answer = None
        if not self.done.is_set():
            self._to_app.send_nowait({"type": "lifespan.shutdown"})
            answer = await self._answer()
        if answer is not None and answer["type"] != "lifespan.shutdown.complete":
            await self._fail(answer, "shutdown")
        await self.wait(CLOSE_GRACE)
        self._release()
        if self.error is not None:
            raise self.error

    async def _fail(self, answer: Message, event: str) -> None:
        await self.wait(CLOSE_GRACE)
        self._release()
        kind = answer["type"]
        if kind != f"lifespan.{event}.failed":
            raise RuntimeError(f"unexpected ASGI message {kind!r} during lifespan {event}")
        if self.error is not None:
            raise self.error
        raise LifespanError(answer.get("message") or f"lifespan {event} failed")

    def _release(self) -> None:
        self._to_app.close()
        self._from_app.close()
