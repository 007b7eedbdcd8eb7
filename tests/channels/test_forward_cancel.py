"""A socket's forwarding task ends when its block ends, even as an event arrives then.

On Python 3.11 `asyncio.wait_for` returns a result that completes while the waiting task
is cancelled and loses the cancellation: the forwarding task ran on, and the handler,
waiting for it to end, never returned (a websocket left open, a member left present).
The race is set up here by waking the subscription and cancelling in one step.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from trivium.channels import Channels
from trivium.channels._event import Event
from trivium.channels._socket import ChannelSocket

pytestmark = pytest.mark.drives_no_app


class _Peer:
    """Stands for the websocket: takes every frame sent."""

    def __init__(self) -> None:
        self.frames: list[str] = []

    async def send_text(self, text: str) -> None:
        self.frames.append(text)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_forwarding_task_ends_when_cancelled_as_an_event_arrives(
    anyio_backend: str,
) -> None:
    channels = Channels("memory")
    peer: Any = _Peer()
    async with channels.subscribe("room") as subscription:
        socket = ChannelSocket(channels, peer, ("room",), ping=30.0)
        for _ in range(20):  # the race needs the wake-up and the cancel in one step
            task = asyncio.create_task(socket._forward(subscription))
            await asyncio.sleep(0)  # waiting for an event
            subscription._queue.append(Event.resync(None, "room"))
            subscription._wake()
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=1)
            assert done, "the forwarding task ran on after its cancellation"
