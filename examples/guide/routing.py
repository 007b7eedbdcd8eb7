"""Routing, as shown in docs/routing.md: decorators, converters, routers, mounts, views."""

from __future__ import annotations

import time
import uuid
from typing import Annotated
from typing import Any

from trivium import App
from trivium import Depends
from trivium import Header
from trivium import HTTPException
from trivium import Request
from trivium import Router
from trivium.responses import PlainTextResponse
from trivium.routing import Route
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

app = App()


# --8<-- [start:decorators]
@app.get("/articles")
def list_articles() -> list[str]:
    return ["intro", "routing"]


@app.route("/articles/{slug}", methods=["GET", "PUT"])
async def article(slug: str, request: Request) -> dict[str, str]:
    return {"slug": slug, "method": request.method}


# --8<-- [end:decorators]


# --8<-- [start:converters]
@app.get("/orders/{order_id:int}")
def order(order_id: int) -> dict[str, int]:
    return {"order_id": order_id}  # /orders/abc does not match: 404


@app.get("/sessions/{session_id:uuid}")
def session(session_id: uuid.UUID) -> dict[str, str]:
    return {"session_id": str(session_id)}


@app.get("/static/{file_path:path}")
def static_file(file_path: str) -> dict[str, str]:
    return {"file_path": file_path}  # /static/css/site.css -> "css/site.css"


# --8<-- [end:converters]


# --8<-- [start:router]
def require_admin(x_role: Annotated[str, Header()]) -> None:
    if x_role != "admin":
        raise HTTPException(403, "Admins only")


admin = Router(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


@admin.get("/stats")
def stats() -> dict[str, int]:
    return {"users": 3}


@admin.get("/users/{user_id}", name="admin-user")
def admin_user(user_id: int) -> dict[str, int]:
    return {"user_id": user_id}


app.include_router(admin, prefix="/v1")  # serves /v1/admin/stats and /v1/admin/users/{user_id}
# --8<-- [end:router]


# --8<-- [start:view]
@app.view("/notes/{note_id}")
class Note:
    """GET, PUT and DELETE of one note; other methods get a 405."""

    def get(self, note_id: int) -> dict[str, int | str]:
        return {"note_id": note_id, "text": "hello"}

    def put(self, note_id: int, text: str) -> dict[str, int | str]:
        return {"note_id": note_id, "text": text}

    async def delete(self, note_id: int) -> dict[str, int]:
        return {"deleted": note_id}


# --8<-- [end:view]


# --8<-- [start:mount]
async def legacy(scope: Scope, receive: Receive, send: Send) -> None:
    """Any ASGI app: here, one that answers every request with plain text."""
    text = f"legacy app: {scope['path']} under {scope['root_path']}"
    await PlainTextResponse(text)(scope, receive, send)


app.mount("/legacy", legacy)

api_v2 = App()


@api_v2.get("/ping", name="ping")
def ping() -> str:
    return "pong"


app.mount("/v2", api_v2, name="v2")  # a trivium app; its lifespan runs with the parent's
# --8<-- [end:mount]


# --8<-- [start:url-for]
@app.get("/links")
def links(request: Request) -> dict[str, str]:
    return {
        "user": app.url_path_for("admin-user", user_id=7),
        "ping": app.url_path_for("v2:ping"),
        "absolute": str(request.url_for("order", order_id=1)),
    }


# --8<-- [end:url-for]


# --8<-- [start:route-class]
class TimedRoute(Route):
    """A route that says how long its handler took, on every request and protocol."""

    __slots__ = ()

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, app: Any, *rest: Any
    ) -> None:
        started = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                spent = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"server-timing", spent.encode()),
                ]
            await send(message)

        await super().handle(scope, receive, timed_send, app, *rest)


timed = Router(prefix="/timed", route_class=TimedRoute)


@timed.get("/report")
async def report() -> dict[str, str]:
    return {"report": "ready"}


app.include_router(timed)
# --8<-- [end:route-class]
