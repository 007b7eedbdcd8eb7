"""Presence: who is in a channel, join and leave events, members of dead processes expire."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import pytest
from tests.channels.chatapp import make_app

from trivium.channels import Backend
from trivium.channels import Channels
from trivium.channels import MemoryBackend
from trivium.testing import TestClient


def test_sockets_join_and_leave_a_room(make_backend: Callable[[], Backend]) -> None:
    with TestClient(make_app(make_backend())) as client:
        with client.websocket_connect("/rooms/1") as watcher:
            assert watcher.receive_json() == {"type": "ready"}
            with client.websocket_connect("/rooms/1?name=ada") as ada:
                assert ada.receive_json()["type"] in ("join", "ready")
                joined = watcher.receive_json()
                assert (joined["type"], joined["channel"], joined["data"]) == (
                    "join",
                    "room:1",
                    {"name": "ada"},
                )
                assert client.get("/rooms/1/members").json() == [{"name": "ada"}]
            left = watcher.receive_json()
            assert (left["type"], left["data"]) == ("leave", {"name": "ada"})
            assert client.get("/rooms/1/members").json() == []


@pytest.mark.anyio
async def test_members_whose_heartbeats_stop_are_removed_with_a_leave_event(
    make_backend: Callable[[], Backend],
) -> None:
    """A process killed mid-presence beat once and then never again: it expires."""
    channels = Channels(make_backend(), heartbeat=0.05)
    # In memory the "other process" can only be this one's backend, beaten once directly.
    dead = channels.backend if isinstance(channels.backend, MemoryBackend) else make_backend()
    async with channels.running(), channels.subscribe("room:x") as subscription:
        async with channels.join("room:x", {"name": "alive"}):
            assert (await subscription.get()).kind == "join"
            await dead.beat([("room:x", "dead-process-key", b'{"name":"ghost"}')], 0.2)
            if dead is not channels.backend:
                await dead.stop()  # closes its connection: the process is gone
            with anyio.fail_after(5):
                joined = await subscription.get()
            assert (joined.kind, joined.data) == ("join", {"name": "ghost"})
            started = time.monotonic()
            with anyio.fail_after(5):
                left = await subscription.get()
            assert (left.kind, left.data) == ("leave", {"name": "ghost"})
            # Expiry (0.2 s) plus at most one sweep interval, with slack for a busy machine.
            assert time.monotonic() - started < 2
            # The live member kept beating every 50 ms and is still there.
            await anyio.sleep(0.3)
            assert await channels.members("room:x") == [{"name": "alive"}]
        with anyio.fail_after(5):
            assert (await subscription.get()).kind == "leave"
        assert await channels.members("room:x") == []
