"""A to-do API on the core alone, with an in-memory store (no database, no batteries).

A small to-do API showing the core: routers, path/query/body parameters, dependencies
with `yield` (an app-wide store and a per-request transaction), response models,
`HTTPException`, background tasks, a class-based view, a websocket echo and a
server-sent events stream, plus an HTML index page linking to all of it.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Annotated

import anyio

from examples.todos.store import StoreDep
from examples.todos.todos import router as todos_router
from trivium import App
from trivium import Query
from trivium import WebSocket
from trivium.responses import EventSourceResponse
from trivium.responses import HTMLResponse
from trivium.responses import ServerSentEvent

app = App(title="Trivium to-dos")
app.include_router(todos_router)

INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trivium to-dos</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;line-height:1.5}
code{background:#f3f3f3;padding:0 .25rem}</style></head>
<body>
<h1>Trivium to-dos</h1>
<ul>
  <li><a href="/docs">/docs</a> &mdash; interactive API docs
      (<a href="/openapi.json">OpenAPI document</a>)</li>
  <li><a href="/health">GET /health</a> &mdash; liveness</li>
  <li><a href="/todos">GET /todos</a> &mdash; list (<a href="/todos?done=false&amp;limit=2">filtered</a>,
      <a href="/todos?limit=0">a 422</a>)</li>
  <li><a href="/todos/1">GET /todos/1</a> &mdash; one to-do (<a href="/todos/999">a 404</a>)</li>
  <li><code>POST /todos</code>, <code>PATCH /todos/{id}</code>, <code>DELETE /todos/{id}</code>
      &mdash; try them with curl</li>
  <li><a href="/activity">GET /activity</a> &mdash; written by background tasks</li>
  <li><a href="/events/clock?count=5">GET /events/clock</a> &mdash; server-sent events</li>
  <li><code>/ws/echo</code> &mdash; websocket echo:
    <input id="msg" value="hello"> <button id="send">send</button> <output id="out"></output></li>
</ul>
<script>
const ws = new WebSocket(`ws://${location.host}/ws/echo`);
ws.onmessage = (event) => { document.getElementById("out").textContent = event.data; };
document.getElementById("send").onclick = () => ws.send(document.getElementById("msg").value);
</script>
</body></html>
"""


@app.get("/", response_class=HTMLResponse, include_in_schema=False)
def index() -> str:
    return INDEX


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/activity")
def activity(store: StoreDep) -> list[str]:
    return store.activity


# --8<-- [start:websocket]
@app.websocket("/ws/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for message in websocket.iter_text():
        await websocket.send_text(f"echo: {message}")


# --8<-- [end:websocket]


# --8<-- [start:sse]
@app.get("/events/clock")
async def clock(
    count: Annotated[int, Query(ge=1, le=100)] = 10,
    interval: Annotated[float, Query(ge=0, le=5)] = 1.0,
) -> EventSourceResponse:
    async def ticks() -> AsyncIterator[ServerSentEvent]:
        for n in range(1, count + 1):
            now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
            yield ServerSentEvent(data={"n": n, "time": now}, event="tick", id=str(n))
            if n < count:
                await anyio.sleep(interval)

    return EventSourceResponse(ticks())


# --8<-- [end:sse]
