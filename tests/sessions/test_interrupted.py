"""Overlapping requests of one client: a session deleted meanwhile stays deleted.

A slow request loads the session; while it runs, another request logs out (flushes it)
or logs in again (rotates it). The slow request's late save must not bring the old
session back, and its response must not send a cookie.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest

from trivium import App
from trivium import Request
from trivium import WebSocket
from trivium.sessions import SessionMiddleware
from trivium.sessions import Sessions
from trivium.stores import Store
from trivium.testing import AsyncTestClient

pytestmark = pytest.mark.anyio

KEY = "k" * 40


class Gate:
    """Holds the slow handler until the test has done its other request."""

    def __init__(self) -> None:
        self.entered = anyio.Event()
        self.release = anyio.Event()

    async def hold(self) -> None:
        self.entered.set()
        await self.release.wait()


def make_app(store: Store, gate: Gate, *, middleware: bool = False) -> App:
    if middleware:
        app = App(openapi_url=None)
        app.add_middleware(SessionMiddleware, secret_key=KEY, store=store)
    else:
        app = App(openapi_url=None, plugins=[Sessions(secret_key=KEY, store=store)])

    @app.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        request.session["user"] = "ada"
        request.session.rotate()  # type: ignore[attr-defined]
        return dict(request.session)

    @app.post("/logout")
    async def logout(request: Request) -> dict[str, Any]:
        request.session.flush()  # type: ignore[attr-defined]
        return {}

    @app.get("/me")
    async def me(request: Request) -> dict[str, Any]:
        return dict(request.session)

    @app.post("/slow")
    async def slow(request: Request) -> dict[str, Any]:
        await gate.hold()
        request.session["last_seen"] = "now"
        return dict(request.session)

    @app.post("/slow-rotate")
    async def slow_rotate(request: Request) -> dict[str, Any]:
        await gate.hold()
        request.session["password_changed"] = True
        request.session.rotate()  # type: ignore[attr-defined]
        return dict(request.session)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        websocket.scope["session"]["from_socket"] = "yes"
        await websocket.close()

    return app


@asynccontextmanager
async def overlapping(
    client: AsyncTestClient, gate: Gate, path: str
) -> AsyncIterator[Callable[[], Awaitable[httpx.Response]]]:
    """Start `POST path` and hold it; on exit let it finish; yield its response's getter."""
    answers: list[httpx.Response] = []

    async def slow() -> None:
        answers.append(await client.post(path))

    async def answer() -> httpx.Response:
        return answers[0]

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(slow)
        await gate.entered.wait()
        try:
            yield answer
        finally:
            gate.release.set()


@asynccontextmanager
async def logged_in(app: App) -> AsyncIterator[tuple[AsyncTestClient, str]]:
    """A client logged in to `app`, and its session cookie."""
    async with AsyncTestClient(app) as client:
        assert (await client.post("/login")).json() == {"user": "ada"}
        yield client, client.cookies["session"]


async def old_cookie_sees(app: App, cookie: str) -> Any:
    """What the session of `cookie` holds now, seen by another client."""
    other = AsyncTestClient(app, headers={"cookie": f"session={cookie}"})
    try:
        return (await other.get("/me")).json()
    finally:
        await other.aclose()


async def test_a_slow_request_does_not_undo_a_logout(store: Store) -> None:
    gate = Gate()
    app = make_app(store, gate)
    async with logged_in(app) as (client, cookie):
        async with overlapping(client, gate, "/slow") as slow:
            logout = await client.post("/logout")
            assert "Max-Age=0" in logout.headers["set-cookie"]
        late = await slow()
        assert late.status_code == 200
        assert "set-cookie" not in late.headers  # the expired cookie stays expired
        assert "session" not in client.cookies
        assert await old_cookie_sees(app, cookie) == {}  # not logged in again


async def test_a_slow_request_does_not_overwrite_a_new_login(store: Store) -> None:
    gate = Gate()
    app = make_app(store, gate)
    async with logged_in(app) as (client, cookie):
        async with overlapping(client, gate, "/slow") as slow:
            await client.post("/login")  # rotates: the old id is gone
            new_cookie = client.cookies["session"]
        assert "set-cookie" not in (await slow()).headers
        assert client.cookies["session"] == new_cookie
        assert (await client.get("/me")).json() == {"user": "ada"}
        assert await old_cookie_sees(app, cookie) == {}


async def test_a_slow_rotation_does_not_bring_back_a_logged_out_session(store: Store) -> None:
    gate = Gate()
    app = make_app(store, gate)
    async with logged_in(app) as (client, _):
        async with overlapping(client, gate, "/slow-rotate") as slow:
            await client.post("/logout")
        assert "set-cookie" not in (await slow()).headers  # no new id for the old session
        assert "session" not in client.cookies


async def test_session_middleware_does_not_undo_a_logout(store: Store) -> None:
    gate = Gate()
    app = make_app(store, gate, middleware=True)
    async with logged_in(app) as (client, cookie):
        async with overlapping(client, gate, "/slow") as slow:
            await client.post("/logout")
        assert "set-cookie" not in (await slow()).headers
        assert await old_cookie_sees(app, cookie) == {}


async def test_changes_to_a_session_still_stored_are_saved(store: Store) -> None:
    gate = Gate()
    app = make_app(store, gate)
    async with logged_in(app) as (client, cookie):
        async with overlapping(client, gate, "/slow") as slow:
            assert (await client.get("/me")).json() == {"user": "ada"}
        assert "set-cookie" in (await slow()).headers
        assert await old_cookie_sees(app, cookie) == {"user": "ada", "last_seen": "now"}


async def test_a_websocket_does_not_undo_a_logout(store: Store) -> None:
    app = make_app(store, Gate())
    async with logged_in(app) as (client, cookie):
        async with client.websocket_connect("/ws", headers={"cookie": f"session={cookie}"}) as ws:
            await client.post("/logout")
            await ws.send_text("go")
            await ws.receive()  # the close
        assert await old_cookie_sees(app, cookie) == {}
