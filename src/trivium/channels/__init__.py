"""Publish/subscribe across handlers, tasks and processes: websocket groups, event streams, presence.

```python
from trivium import App, Request, WebSocket
from trivium.channels import Channels, ChannelsDep

channels = Channels()  # in memory; Channels("redis://localhost:6379/0") across processes
app = App(plugins=[channels])


@app.post("/rooms/{room}/messages")
async def post(room: str, text: str, channels: ChannelsDep) -> None:
    await channels.publish(f"room:{room}", {"text": text})


@app.websocket("/rooms/{room}")
async def chat(websocket: WebSocket, room: str, channels: ChannelsDep) -> None:
    async with channels.connect(websocket, f"room:{room}"):
        async for text in websocket.iter_text():
            await channels.publish(f"room:{room}", {"text": text})


@app.get("/rooms/{room}/events")
async def events(request: Request, room: str, channels: ChannelsDep):
    return await channels.event_source(request, f"room:{room}")
```

See `docs/channels.md`. The Redis backend needs the `redis` extra, imported only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any

from trivium.channels._backend import Backend
from trivium.channels._backend import Deliver
from trivium.channels._backend import Entry
from trivium.channels._backend import Member
from trivium.channels._backend import MemoryBackend
from trivium.channels._channels import Authorize
from trivium.channels._channels import Channels
from trivium.channels._channels import get_channels
from trivium.channels._event import ChannelForbiddenError
from trivium.channels._event import ChannelsUnavailableError
from trivium.channels._event import Event
from trivium.channels._event import EventKind
from trivium.channels._event import InvalidChannelError
from trivium.channels._socket import ChannelSocket
from trivium.channels._sse import event_stream
from trivium.channels._subscription import Subscription
from trivium.di import Depends

if TYPE_CHECKING:
    from trivium.channels._redis import RedisBackend

__all__ = [
    "Authorize",
    "Backend",
    "ChannelForbiddenError",
    "ChannelSocket",
    "Channels",
    "ChannelsDep",
    "ChannelsUnavailableError",
    "Deliver",
    "Entry",
    "Event",
    "EventKind",
    "InvalidChannelError",
    "Member",
    "MemoryBackend",
    "RedisBackend",
    "Subscription",
    "event_stream",
    "get_channels",
]

ChannelsDep = Annotated[Channels, Depends(get_channels)]
"""The app's `Channels`, as a handler or dependency parameter: `channels: ChannelsDep`."""


def __getattr__(name: str) -> Any:
    if name != "RedisBackend":
        raise AttributeError(f"module 'trivium.channels' has no attribute {name!r}")
    value = importlib.import_module("trivium.channels._redis").RedisBackend
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), "RedisBackend"])
