"""A small app served by a real Granian process in the live tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

from trivium import App
from trivium import Request
from trivium import WebSocket
from trivium.middleware import Middleware
from trivium.middleware import TrustedHostMiddleware
from trivium.responses import EventSourceResponse

app = App()


@app.get("/plaintext")
async def plaintext() -> str:
    return "hello"


@app.post("/echo")
async def echo(payload: dict[str, object]) -> dict[str, object]:
    return payload


@app.get("/events")
async def events(count: int = 3) -> EventSourceResponse:
    async def stream() -> AsyncIterator[dict[str, object]]:
        for i in range(count):
            yield {"event": "tick", "data": str(i)}

    return EventSourceResponse(stream())


@app.websocket("/ws")
async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(f"echo: {text}")


@app.get("/base")
async def base(request: Request) -> str:
    return str(request.base_url)


@app.get("/client")
async def client(request: Request) -> dict[str, object]:
    assert request.client is not None
    return {"host": request.client.host, "port": request.client.port}


guarded = App(
    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "*.example.com"])]
)
"""The same routes behind `TrustedHostMiddleware`."""
guarded.include_router(app)
