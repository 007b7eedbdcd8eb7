"""A chat app on channels, used in-process by the tests and by live server processes.

`make_app(backend)` builds it; run as a module target (`tests.channels.chatapp:app`) it
uses the Redis URL and prefix in `CHAT_REDIS_URL`/`CHAT_PREFIX` (memory when unset).
"""

from __future__ import annotations

import os
from typing import Any

from trivium import App
from trivium import Request
from trivium import WebSocket
from trivium.channels import Backend
from trivium.channels import Channels
from trivium.channels import ChannelsDep
from trivium.channels import RedisBackend
from trivium.http import HTTPConnection
from trivium.responses import EventSourceResponse


def members_only(connection: HTTPConnection, channel: str) -> bool:
    """Allow `private:*` channels only to connections with `?member=yes`."""
    return not channel.startswith("private:") or connection.query_params.get("member") == "yes"


def make_app(backend: Backend | str = "memory", **options: Any) -> App:
    """Build the chat app on `backend`."""
    options.setdefault("history", {"room:*": 50})
    options.setdefault("authorize", members_only)
    app = App(plugins=[Channels(backend, **options)])

    @app.get("/plaintext")
    async def plaintext() -> str:
        return "hello"

    @app.post("/rooms/{room}")
    async def post(room: str, message: dict[str, Any], channels: ChannelsDep) -> dict[str, Any]:
        event_id = await channels.publish(f"room:{room}", message)
        return {"id": event_id}

    @app.get("/rooms/{room}/events")
    async def events(request: Request, room: str, channels: ChannelsDep) -> EventSourceResponse:
        return await channels.event_source(request, f"room:{room}", ping=5)

    @app.get("/rooms/{room}/members")
    async def members(room: str, channels: ChannelsDep) -> list[Any]:
        return await channels.members(f"room:{room}")

    @app.websocket("/rooms/{room}")
    async def chat(websocket: WebSocket, room: str, channels: ChannelsDep, name: str = "") -> None:
        async with channels.connect(websocket) as socket:
            await socket.subscribe(f"room:{room}")
            if name:
                await socket.join(f"room:{room}", {"name": name})
            await socket.send_json({"type": "ready"})
            async for message in websocket.iter_json():
                if "subscribe" in message:
                    await socket.subscribe(message["subscribe"])
                    await socket.send_json({"type": "subscribed", "channel": message["subscribe"]})
                elif "unsubscribe" in message:
                    await socket.unsubscribe(message["unsubscribe"])
                    await socket.send_json({"type": "unsubscribed"})
                else:
                    await channels.publish(f"room:{room}", message)

    @app.websocket("/rooms/{room}/live")
    async def live(websocket: WebSocket, room: str, channels: ChannelsDep, after: str = "") -> None:
        # A reconnecting client sends the id of the last event it got: it gets what it
        # missed, then the live events.
        resume = {f"room:{room}": after} if after else None
        async with channels.connect(websocket, f"room:{room}", after=resume):
            async for message in websocket.iter_json():
                await channels.publish(f"room:{room}", message)

    return app


def _from_environment() -> App:
    url = os.environ.get("CHAT_REDIS_URL")
    if not url:
        return make_app()
    backend = RedisBackend(url, prefix=os.environ["CHAT_PREFIX"], health_interval=0.5)
    return make_app(backend, heartbeat=float(os.environ.get("CHAT_HEARTBEAT", "0.2")))


app = _from_environment()
