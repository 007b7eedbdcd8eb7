"""A chat room with presence and a live dashboard over server-sent events.

Run it with `trivium run examples.channels.app:app`; set `REDIS_URL` to share the rooms
and the dashboard between worker processes (`--workers 4`) or hosts.
"""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import BaseModel
from pydantic import Field

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium import WebSocket
from trivium.channels import Channels
from trivium.channels import ChannelsDep
from trivium.http import HTTPConnection
from trivium.responses import EventSourceResponse


# --8<-- [start:setup]
def authorize(connection: HTTPConnection, channel: str) -> bool:
    """Staff rooms only for connections that show the staff key."""
    if channel.startswith("room:staff"):
        return connection.headers.get("x-staff-key") == os.environ.get("STAFF_KEY", "letmein")
    return True


channels = Channels(
    os.environ.get("REDIS_URL", "memory"),  # "redis://localhost:6379/0" across processes
    history={"dashboard": 100},  # the dashboard keeps its last 100 events for reconnects
    queue_limit=500,  # per subscriber; beyond it a "resync" event says how many were dropped
    authorize=authorize,
)
app = App(plugins=[channels])
# --8<-- [end:setup]


# --8<-- [start:chat]
@app.websocket("/rooms/{room}")
async def chat(
    websocket: WebSocket,
    room: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")],
    name: Annotated[str, Field(min_length=1, max_length=40)],
    channels: ChannelsDep,
) -> None:
    channel = f"room:{room}"
    # Refused before the handshake completes (403, close code 1008) if `authorize` says no.
    async with channels.connect(websocket, channel) as socket:
        await socket.join(channel, {"name": name})  # everyone gets {"type": "join", ...}
        await socket.send_json({"type": "members", "data": await channels.members(channel)})
        async for text in websocket.iter_text():
            await channels.publish(channel, {"from": name, "text": text[:1000]})
    # Leaving the block unsubscribed the socket and announced {"type": "leave", ...}.


# --8<-- [end:chat]


@app.get("/rooms/{room}/members")
async def members(room: str, channels: ChannelsDep) -> list[dict[str, str]]:
    return await channels.members(f"room:{room}")


# --8<-- [start:dashboard]
class Order(BaseModel):
    product: str = Field(min_length=1, max_length=100)
    amount: float = Field(gt=0)


@app.post("/orders", status_code=201)
async def place_order(order: Order, channels: ChannelsDep) -> dict[str, str | None]:
    # Saved to the database in a real app; then every open dashboard hears of it.
    event_id = await channels.publish("dashboard", {"order": order, "kind": "order"})
    return {"event": event_id}


@app.get("/dashboard/events")
async def dashboard(request: Request, channels: ChannelsDep) -> EventSourceResponse:
    # A reconnecting browser sends Last-Event-ID and first gets what it missed.
    return await channels.event_source(request, "dashboard")


# --8<-- [end:dashboard]


@app.get("/ready")
async def ready(channels: ChannelsDep) -> dict[str, bool]:
    if not channels.ready:
        raise HTTPException(503, "channels backend unreachable")
    return {"ready": True}
