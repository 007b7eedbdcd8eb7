"""`Channels`: publish/subscribe between handlers, tasks and processes, as a plugin.

The plugin owns the process's side of every channel: the local subscribers of each
channel (a set of `Subscription`s, each with its bounded queue), the backend that carries
events between processes, and the heartbeats of the connections present in channels.
Its lifespan runs the backend's listener and the presence heartbeat in tasks of their
own (plain asyncio tasks, since Granian's RSGI workers enter and leave the lifespan from
different tasks, which a task group cannot span).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import inspect
import logging
import os
import uuid
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import orjson

from trivium.channels._backend import Backend
from trivium.channels._backend import MemoryBackend
from trivium.channels._event import ChannelForbiddenError
from trivium.channels._event import ChannelsUnavailableError
from trivium.channels._event import Event
from trivium.channels._event import check_channel
from trivium.channels._event import encode
from trivium.channels._origin import OriginStep
from trivium.channels._subscription import Subscription
from trivium.errors import ConfigurationError
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.channels._socket import ChannelSocket
    from trivium.conf import Settings
    from trivium.http import HTTPConnection
    from trivium.http import Request
    from trivium.http import WebSocket
    from trivium.responses import EventSourceResponse

__all__ = ["Authorize", "Channels", "get_channels"]

logger = logging.getLogger("trivium.channels")

Authorize = Callable[["HTTPConnection", str], bool | Awaitable[bool]]
"""`authorize(connection, channel)`: may this request or websocket subscribe to `channel`?"""


# What says that the app runs in several processes: `trivium run` (and uvicorn, gunicorn)
# read the worker count from the first two; `trivium run --workers N` sets the third for
# N > 1 (docs/observability.md), the one sign left when the count is given as a flag.
_WORKER_COUNTS = ("TRIVIUM_WORKERS", "WEB_CONCURRENCY")
_MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"


def _several_workers() -> str | None:
    """Return what says that the app runs in several worker processes, or `None`."""
    declared = os.environ.get("TRIVIUM_WORKERS", "").strip()
    if declared.isdigit():  # `trivium run` sets it to its --workers for the workers
        return f"TRIVIUM_WORKERS={declared}" if int(declared) > 1 else None
    for name in _WORKER_COUNTS:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 1:
            return f"{name}={value}"
    if os.environ.get(_MULTIPROCESS):
        return f"{_MULTIPROCESS} is set, as trivium run --workers N sets it"
    return None


def _warn_if_several_workers() -> None:
    """Warn that the memory backend splits rooms between worker processes."""
    sign = _several_workers()
    if sign is not None:
        logger.warning(
            "channels: the memory backend serves one process only, but this app runs in "
            "several worker processes (%s): each worker has its own subscribers, presence "
            "and history, and events published in one worker never reach the others. Set a "
            "Redis URL: Channels('redis://host:6379/0'), or TRIVIUM_REDIS_URL with "
            "Channels.from_settings(settings)",
            sign,
        )


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{name}={value!r} must be a positive integer", "channels-option")
    return value


def _seconds(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(
            f"{name}={value!r} must be a positive number of seconds", "channels-option"
        )
    return float(value)


def _backend(backend: str | Backend) -> Backend:
    if isinstance(backend, str):
        if backend == "memory":
            return MemoryBackend()
        from trivium.channels._redis import RedisBackend

        return RedisBackend(backend)
    if not all(hasattr(backend, name) for name in ("publish", "subscribe", "listen", "beat")):
        raise ConfigurationError(
            f"backend={backend!r} is neither 'memory', a redis:// URL nor a channels backend",
            "channels-backend",
        )
    return backend


def _history(history: Mapping[str, int]) -> dict[str, int]:
    if not isinstance(history, Mapping):
        raise ConfigurationError(
            f"history must map channel names or patterns to event counts, not {history!r}",
            "channels-option",
        )
    return {
        str(pattern): _count(keep, f"history[{pattern!r}]") for pattern, keep in history.items()
    }


class Channels(Plugin):
    """Channels across handlers, tasks and worker processes (see `docs/channels.md`).

    ```python
    channels = Channels("redis://localhost:6379/0", history={"todos": 100})
    app = App(plugins=[channels])


    @app.post("/todos")
    async def add(todo: Todo, channels: ChannelsDep) -> Todo:
        await channels.publish("todos", todo)
        return todo
    ```

    Args:
        backend: `"memory"` (one process, the default), a `redis://` URL, or a backend
            object (`MemoryBackend()`, `RedisBackend(url, ...)`).
        history: channels (names or `fnmatch` patterns such as `"room:*"`) that keep their
            last N events, for `Last-Event-ID` resumption: `{"todos": 100}`.
        queue_limit: the most events queued per subscriber before it counts as behind
            (it then gets a `resync` event with the number dropped).
        authorize: `authorize(connection, channel) -> bool` (or awaitable), asked before a
            websocket or event stream subscribes; `None` allows every channel.
        heartbeat: seconds between presence heartbeats; a member whose process stopped
            beating disappears after three of them.
        check_origin: refuse cookie-carrying websocket handshakes from other origins.
        trusted_origins: other origins allowed to open websockets (`"https://app.example.com"`).

    Raises:
        ConfigurationError: an invalid option (`channels-option`) or backend
            (`channels-backend`).
    """

    install_hint = "App(plugins=[Channels()]) (or app.install(Channels()))"

    def __init__(  # noqa: PLR0913 - the plugin's options, all keyword-only but the backend
        self,
        backend: str | Backend = "memory",
        *,
        history: Mapping[str, int] | None = None,
        queue_limit: int = 1000,
        authorize: Authorize | None = None,
        heartbeat: float = 5.0,
        check_origin: bool = True,
        trusted_origins: Sequence[str] = (),
    ) -> None:
        self.backend: Backend = _backend(backend)
        """What carries events between processes."""
        self.history = _history(history or {})
        """Channel names or patterns and how many events each keeps."""
        self.queue_limit = _count(queue_limit, "queue_limit")
        """The most events queued per subscriber."""
        if authorize is not None and not callable(authorize):
            raise ConfigurationError(
                f"authorize={authorize!r} must be a function (connection, channel) -> bool",
                "channels-option",
            )
        self.authorize_hook = authorize
        """The app's `authorize(connection, channel)` hook, if any."""
        self.heartbeat = _seconds(heartbeat, "heartbeat")
        """Seconds between presence heartbeats."""
        self.origin_step = OriginStep(trusted_origins) if check_origin else None
        """The origin check compiled into websocket routes (`None` when turned off)."""
        self._local: dict[str, set[Subscription]] = {}
        self._keep: dict[str, int] = {}
        self._present: dict[str, tuple[str, bytes]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> Channels:
        """Build channels on the settings' `redis_url` (in memory when it is unset)."""
        return cls(settings.redis_url or "memory", **options)

    def __repr__(self) -> str:
        return f"Channels({self.backend!r})"

    @property
    def ready(self) -> bool:
        """Whether events flow between processes (for readiness checks)."""
        return bool(self.backend.ready)

    async def check(self) -> str | None:
        """A readiness check: `None` when events flow, else what is wrong.

        Pass it to the observability plugin: `Observability(checks={"channels": channels.check})`
        makes `/readyz` answer 503 while the Redis listener is down.
        """
        if self.backend.ready:
            return None
        return "the channels backend (Redis) is unreachable; the listener is reconnecting"

    # Plugin hooks ----------------------------------------------------------------------

    def providers(self, app: App) -> Mapping[Callable[..., Any], Callable[..., Any]]:
        """Provide `get_channels`: this plugin."""
        del app
        return {get_channels: self._self}

    def _self(self) -> Channels:
        return self

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """The origin check, on websocket routes."""
        if route.websocket and self.origin_step is not None:
            return (self.origin_step,)
        return ()

    def cli_commands(self) -> Sequence[Any]:
        """`trivium channels publish` and `trivium channels members`."""
        from trivium.channels._cli import channels_group

        return [channels_group(self)]

    def lifespan(self, app: App) -> contextlib.AbstractAsyncContextManager[None]:
        """Run the backend's listener and the presence heartbeat while the app runs."""
        del app
        return self.running()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Start the listener and heartbeat; stop them and close connections on exit.

        The app's lifespan enters this; enter it yourself to receive events outside an
        app (a task worker that subscribes). Publishing needs no running listener.
        """
        if isinstance(self.backend, MemoryBackend):
            _warn_if_several_workers()
        await self.backend.start(self._deliver, self._gap)
        self._tasks = [
            asyncio.create_task(self.backend.listen(), name="trivium.channels listener"),
            asyncio.create_task(self._beat_forever(), name="trivium.channels heartbeat"),
        ]
        try:
            yield
        finally:
            tasks, self._tasks = self._tasks, []
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.backend.stop()

    # Publishing and subscribing ------------------------------------------------------

    def keeps(self, channel: str) -> int:
        """Return how many events `channel` keeps in history (0: none)."""
        keep = self._keep.get(channel)
        if keep is None:
            keep = next(
                (n for pattern, n in self.history.items() if fnmatch.fnmatchcase(channel, pattern)),
                0,
            )
            if len(self._keep) < 10_000:
                self._keep[channel] = keep
        return keep

    async def publish(self, channel: str, data: Any) -> str | None:
        """Send `data` (anything JSON-encodable, models included) to the channel's subscribers.

        Returns:
            The event's id when the channel keeps history, else `None`.

        Raises:
            InvalidChannelError: the channel name is invalid (400; 1008 on a websocket).
            ChannelsUnavailableError: the backend (Redis) is unreachable; nothing was sent.
        """
        check_channel(channel)
        return await self.backend.publish(channel, "message", encode(data), self.keeps(channel))

    @contextlib.asynccontextmanager
    async def subscribe(
        self, *channels: str, limit: int | None = None
    ) -> AsyncIterator[Subscription]:
        """Subscribe to `channels` for the duration of the `async with` block.

        ```python
        async with channels.subscribe("todos") as subscription:
            async for event in subscription:
                print(event.kind, event.data)
        ```

        Args:
            channels: channel names (more can be added with `subscription.subscribe`).
            limit: this subscriber's queue limit (default: the plugin's `queue_limit`).
        """
        subscription = Subscription(
            self.queue_limit if limit is None else _count(limit, "limit"), self._add, self._remove
        )
        try:
            await subscription.subscribe(*channels)
            yield subscription
        finally:
            subscription.close()
            await asyncio.shield(subscription.unsubscribe(*subscription.channels))

    def subscribers(self, channel: str) -> int:
        """Return how many subscriptions of this process follow `channel`."""
        return len(self._local.get(channel, ()))

    async def history_after(self, channel: str, last_id: str, limit: int) -> list[Event]:
        """Return up to `limit` kept events of `channel` published after `last_id`."""
        return await self.backend.history(check_channel(channel), last_id, limit)

    async def _add(self, subscription: Subscription, channel: str) -> None:
        subscribers = self._local.get(channel)
        if subscribers is None:
            subscribers = self._local[channel] = set()
            subscribers.add(subscription)
            await self.backend.subscribe(channel)
        else:
            subscribers.add(subscription)

    async def _remove(self, subscription: Subscription, channel: str) -> None:
        subscribers = self._local.get(channel)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if not subscribers:
            del self._local[channel]
            await self.backend.unsubscribe(channel)

    def _deliver(self, event: Event) -> None:
        for subscription in self._local.get(event.channel or "", ()):
            subscription.put(event)

    def _gap(self) -> None:
        for subscription in {s for subs in self._local.values() for s in subs}:
            subscription.gap()

    async def authorize(self, connection: HTTPConnection, channel: str) -> None:
        """Ask the `authorize` hook whether `connection` may subscribe to `channel`.

        Raises:
            ChannelForbiddenError: the hook said no (403; close code 1008 on a websocket).
        """
        hook = self.authorize_hook
        if hook is None:
            return
        allowed = hook(connection, channel)
        if inspect.isawaitable(allowed):
            allowed = await allowed
        if not allowed:
            raise ChannelForbiddenError(channel)

    # Presence ------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def join(self, channel: str, member: Any) -> AsyncIterator[str]:
        """Be present in `channel` as `member` (JSON data) for the `async with` block.

        Joining publishes a `join` event, leaving (or the process stopping its
        heartbeats) a `leave` event, both with `member` as their data. Yields the
        connection's presence key.

        Raises:
            ChannelsUnavailableError: the backend is unreachable.
        """
        key = uuid.uuid4().hex
        raw = encode(member)
        await self.backend.beat([(check_channel(channel), key, raw)], self.heartbeat * 3)
        self._present[key] = (channel, raw)
        try:
            yield key
        finally:
            del self._present[key]
            with contextlib.suppress(ChannelsUnavailableError):
                await asyncio.shield(self.backend.leave(channel, key))

    async def members(self, channel: str) -> list[Any]:
        """Return the member data of every connection present in `channel`, in any process."""
        return [orjson.loads(raw) for _, raw in await self.backend.members(check_channel(channel))]

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            entries = [(channel, key, raw) for key, (channel, raw) in self._present.items()]
            try:
                if entries:
                    await self.backend.beat(entries, self.heartbeat * 3)
                await self.backend.sweep()
            except ChannelsUnavailableError:
                pass  # the listener logs the outage; the next beat tries again
            except Exception:  # a bug must not stop the heartbeats: log it, beat again
                logger.exception("channels: a presence heartbeat failed")

    # Websockets and event streams ----------------------------------------------------

    def connect(
        self,
        websocket: WebSocket,
        *channels: str,
        ping: float | None = 25.0,
        after: Mapping[str, str] | None = None,
    ) -> ChannelSocket:
        """Bind channels to a websocket: `async with channels.connect(websocket, "room:1") as s:`.

        `channels` are authorized before the handshake completes and subscribed at once;
        `socket.subscribe()` adds more later. `ping`: seconds of silence before a
        `{"type": "ping"}` frame, and the longest a frame may take to reach the client
        before it is closed with code 1011 (`None`: neither). `after`: by channel, the id
        of the last event a reconnecting client got; it first gets the events it missed
        (channels that keep history), then the live ones, each once.

        Raises:
            ValueError: `ping` is not a positive number of seconds or `None`.
        """
        from trivium.channels._socket import ChannelSocket

        if ping is not None and (
            isinstance(ping, bool) or not isinstance(ping, int | float) or not ping > 0
        ):
            raise ValueError(f"ping must be a positive number of seconds or None, not {ping!r}")
        return ChannelSocket(self, websocket, channels, ping, after)

    async def event_source(
        self,
        request: Request,
        channel: str,
        *,
        ping: float | None = 15.0,
        headers: Mapping[str, str] | None = None,
    ) -> EventSourceResponse:
        """Return an event stream of `channel`'s events (see `trivium.channels.event_stream`)."""
        from trivium.channels._sse import event_stream

        return await event_stream(self, request, channel, ping=ping, headers=headers)


def get_channels() -> Channels:
    """Return the app's `Channels` (a dependency: `ChannelsDep`).

    Raises:
        ConfigurationError: no `Channels` is installed (`channels-not-installed`).
    """
    raise ConfigurationError(
        "get_channels needs the Channels plugin: App(plugins=[Channels(...)])",
        "channels-not-installed",
    )
