"""The server side of the channels benchmark: websockets subscribed to one channel.

Run by `bench/channels/run.py` as two `trivium run` processes sharing Redis
(`BENCH_REDIS_URL`, `BENCH_PREFIX`).
"""

from __future__ import annotations

import os

from trivium import App
from trivium import WebSocket
from trivium.channels import Channels
from trivium.channels import ChannelsDep
from trivium.channels import RedisBackend

channels = Channels(
    RedisBackend(os.environ["BENCH_REDIS_URL"], prefix=os.environ["BENCH_PREFIX"]),
    queue_limit=int(os.environ.get("BENCH_QUEUE_LIMIT", "1000")),
)
app = App(plugins=[channels])


@app.get("/ready")
async def ready(channels: ChannelsDep) -> dict[str, object]:
    return {"ready": channels.ready, "subscribers": channels.subscribers("bench")}


@app.websocket("/ws")
async def subscriber(websocket: WebSocket, channels: ChannelsDep) -> None:
    async with channels.connect(websocket, "bench"):
        async for _ in websocket.iter_text():
            pass
