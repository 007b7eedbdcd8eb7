"""`ChannelSocket`: a websocket that receives channel events beside its own messages.

The handler keeps its receive loop (`async for message in websocket.iter_json()`); a
task forwards the events of the socket's channels to the client meanwhile, as text
frames `{"type": "message" | "resync" | "join" | "leave", "channel", "id", "data"}`.
Sends from the handler and from the forwarder go through one lock, so frames never
interleave. After `ping` seconds without a frame it sends `{"type": "ping"}`, which keeps
proxies from closing an idle connection (ASGI gives an app no protocol-level pings); a
client that does not take a frame within `ping` seconds (a dead or stuck peer: the
send blocks on a full buffer) is closed with code 1011, so it frees its resources.
Leaving the `async with` block (the client disconnected, the handler
returned or raised) unsubscribes every channel and leaves every presence at once.

A client that reconnects with the id of the last event it got on a channel that keeps
history (`connect(websocket, "room:7", after={"room:7": last_id})`) first gets the events
it missed, from the history, then the live ones, each once: the subscription starts
before the history is read, and live events the replay already sent are skipped. When
more were missed than the history or the queue limit holds, a `resync` frame says so.
When the history cannot be read (Redis is down), the socket waits like every
subscriber and gets the `resync` of the outage once Redis is back, then live events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any
from typing import Self

from trivium.channels._event import ChannelsUnavailableError
from trivium.channels._event import Event
from trivium.channels._event import check_channel
from trivium.channels._event import stream_id_key
from trivium.channels._replay import StreamKey
from trivium.channels._replay import missed_events
from trivium.errors import HTTPException
from trivium.http import WebSocket
from trivium.http import WebSocketDisconnect
from trivium.http import WebSocketState

if TYPE_CHECKING:
    from trivium.channels._channels import Channels
    from trivium.channels._subscription import Subscription

__all__ = ["ChannelSocket"]

_PING = '{"type":"ping"}'

logger = logging.getLogger("trivium.channels")


class ChannelSocket:
    """Channels bound to one websocket; made by `Channels.connect(websocket)`.

    ```python
    @app.websocket("/rooms/{room}")
    async def chat(websocket: WebSocket, room: str, channels: ChannelsDep) -> None:
        async with channels.connect(websocket, f"room:{room}") as socket:
            async for text in websocket.iter_text():
                await channels.publish(f"room:{room}", {"text": text})
    ```

    Entering first asks the `authorize` hook about the channels given to `connect`
    (a refusal, before `accept()`, refuses the handshake: HTTP 403, close code 1008),
    then accepts the websocket if the handler has not, then subscribes.
    """

    __slots__ = (
        "_after",
        "_initial",
        "_lock",
        "_stack",
        "_task",
        "channels",
        "ping",
        "subscription",
        "websocket",
    )

    def __init__(
        self,
        channels: Channels,
        websocket: WebSocket,
        initial: tuple[str, ...],
        ping: float | None = 25.0,
        after: Mapping[str, str] | None = None,
    ) -> None:
        self.channels = channels
        """The plugin."""
        self.websocket = websocket
        """The connection."""
        self.subscription: Subscription | None = None
        """The socket's subscription, while the block runs."""
        self._lock = asyncio.Lock()
        self._stack = contextlib.AsyncExitStack()
        self._task: asyncio.Task[None] | None = None
        self._initial = initial
        self._after = dict(after or {})
        self.ping = ping
        """Seconds of silence before a ping frame, and the longest a frame may take to
        send (`None`: no pings, no limit)."""

    async def __aenter__(self) -> Self:
        for channel in self._initial:
            await self.channels.authorize(self.websocket, check_channel(channel))
        for channel, last_id in self._after.items():
            if channel not in self._initial:
                raise ValueError(f"after= names {channel!r}, which is not a channel of connect()")
            if self.channels.keeps(channel) and stream_id_key(str(last_id)) is None:
                # Before `accept()` the route refuses the handshake with close code 1008,
                # which servers answer with HTTP 403; after it, the socket closes with 1008.
                raise HTTPException(
                    400, f"{str(last_id)[:50]!r} is not an event id of channel {channel!r}"
                )
        if self.websocket.application_state is WebSocketState.CONNECTING:
            await self.websocket.accept()
        self.subscription = await self._stack.enter_async_context(
            self.channels.subscribe(*self._initial)
        )
        self._task = asyncio.create_task(self._forward(self.subscription))
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        task, self._task = self._task, None
        if task is not None:
            # Cancel until it ends: redis-py swallows a cancellation that arrives as a read
            # fails (an outage), and the task would run on, holding the block open.
            while not task.done():
                task.cancel()
                await asyncio.wait((task,), timeout=0.1)
            await asyncio.gather(task, return_exceptions=True)
        await self._stack.aclose()
        self.subscription = None

    def _require(self) -> Subscription:
        if self.subscription is None:
            raise RuntimeError("use the socket inside `async with channels.connect(websocket)`")
        return self.subscription

    async def subscribe(self, channel: str) -> None:
        """Forward `channel`'s events to the client, if the `authorize` hook agrees.

        Raises:
            ChannelForbiddenError: refused (uncaught, it closes the socket with 1008).
            InvalidChannelError: the channel name is invalid (400; 1008 on a websocket).
        """
        subscription = self._require()
        await self.channels.authorize(self.websocket, check_channel(channel))
        await subscription.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        """Stop forwarding `channel`'s events."""
        await self._require().unsubscribe(channel)

    async def join(self, channel: str, member: Any) -> str:
        """Be present in `channel` as `member` until the socket's block ends.

        Returns:
            The connection's presence key.
        """
        self._require()
        return await self._stack.enter_async_context(self.channels.join(channel, member))

    async def send_json(self, data: Any) -> None:
        """Send `data` as JSON, never interleaved with a forwarded event."""
        async with self._lock:
            await self.websocket.send_json(data)

    async def send_text(self, text: str) -> None:
        """Send a text frame, never interleaved with a forwarded event."""
        async with self._lock:
            await self.websocket.send_text(text)

    async def _replay(self) -> tuple[dict[str, StreamKey], set[str]]:
        """Send what the client missed on the channels of `after`.

        Returns the last keys sent, by channel, and the channels whose history could not
        be read for an outage (they get a `resync` instead, see `_forward_events`).
        """
        last: dict[str, StreamKey] = {}
        unread: set[str] = set()
        for channel, last_id in self._after.items():
            if not self.channels.keeps(channel):
                continue
            try:
                missed, key = await missed_events(self.channels, channel, last_id)
            except ChannelsUnavailableError:
                unread.add(channel)
                continue
            for event in missed:  # a leading `resync` when the id is unknown to the history
                await self._send_within(event.frame())
            if key is not None:
                last[channel] = key
        if unread and self.channels.ready:
            # The listener has seen no outage (a stall it has not noticed yet, a glitch on
            # the publishers' connection), so it may send no resync: send one now.
            for channel in sorted(unread):
                await self._send_within(Event.resync(None, channel).frame())
            unread.clear()
        return last, unread

    async def _forward(self, subscription: Subscription) -> None:
        try:
            await self._forward_events(subscription)
        except (WebSocketDisconnect, RuntimeError):
            return  # the client left or the socket closed; the handler's loop sees it too
        except TimeoutError:
            # The peer took nothing for `ping` seconds: dead or stuck. Free the socket.
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await self.websocket.close(1011, "client too slow")
        except Exception:
            # A bug: the task would end unseen (the block's exit drops its result), and
            # the client would wait for events for good. Say so, and close the socket.
            logger.exception("channels: forwarding events to a websocket failed; closing it")
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await self.websocket.close(1011, "Internal error")

    async def _forward_events(self, subscription: Subscription) -> None:
        # `unread`: the channels whose replay failed for an outage. Like every subscriber
        # the socket waits, and gets the listener's `resync` once Redis is back (their
        # live events are not filtered); should an event of theirs come first, Redis
        # answers again and no resync may follow: a `resync` goes out before the event.
        last, unread = await self._replay() if self._after else ({}, set())
        while True:
            # `asyncio.timeout`, not `wait_for`: on Python 3.11, `wait_for` returns an
            # event that arrives as the task is cancelled (the block ending as the client
            # leaves, while its own leave event is published) and loses the cancellation,
            # so the task ran on and the handler waited for it forever.
            try:
                async with asyncio.timeout(self.ping):
                    event = await subscription.get()
            except TimeoutError:
                await self._send_within(_PING)
                continue
            except StopAsyncIteration:
                return
            if unread:
                if event.kind == "resync" and event.channel is None:
                    unread.clear()  # the listener's resync, after an outage: for every channel
                elif event.channel in unread:
                    unread.discard(event.channel)
                    if event.kind != "resync":
                        await self._send_within(Event.resync(None, event.channel).frame())
            if last and event.id is not None and event.channel in last:
                key = stream_id_key(event.id)
                if key is not None:
                    if key <= last[event.channel]:
                        continue  # sent by the replay already
                    last[event.channel] = key
            await self._send_within(event.frame())

    async def _send_within(self, text: str) -> None:
        async with self._lock:
            async with asyncio.timeout(self.ping):
                await self.websocket.send_text(text)
