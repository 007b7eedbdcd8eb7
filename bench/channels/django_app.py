"""The Django Channels side of the channels benchmark: the same websocket subscriber.

A consumer joins the group `bench` on connect and forwards each group message to its
client as `{"type": "message", "data": ...}`, the frame the trivium app sends. Served by
uvicorn (`bench/channels/run.py --framework django`), two processes sharing Redis through
`channels_redis` (`BENCH_REDIS_URL`, `BENCH_PREFIX`). `GET /ready` answers how many
sockets this process has subscribed, as the trivium app does.
"""

from __future__ import annotations

import os

import django
import orjson
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-not-secret-0123456789-abcdefghijklmnop",  # noqa: S106
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["channels"],
    CHANNEL_LAYERS={
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [os.environ["BENCH_REDIS_URL"]],
                "prefix": os.environ["BENCH_PREFIX"],
                "capacity": int(os.environ.get("BENCH_QUEUE_LIMIT", "1000")),
            },
        }
    },
)
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402
from channels.routing import URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

SUBSCRIBED = 0


class Subscriber(AsyncWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        global SUBSCRIBED  # noqa: PLW0603 - a per-process count for /ready
        await self.channel_layer.group_add("bench", self.channel_name)
        await self.accept()
        SUBSCRIBED += 1

    async def disconnect(self, code: int) -> None:
        global SUBSCRIBED  # noqa: PLW0603
        SUBSCRIBED -= 1
        await self.channel_layer.group_discard("bench", self.channel_name)

    async def bench_message(self, event: dict[str, str]) -> None:
        await self.send(text_data='{"type":"message","data":' + event["text"] + "}")


async def ready(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def,type-arg]
    body = orjson.dumps({"ready": True, "subscribers": SUBSCRIBED})
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


application = ProtocolTypeRouter(
    {"http": ready, "websocket": URLRouter([path("ws", Subscriber.as_asgi())])}
)
