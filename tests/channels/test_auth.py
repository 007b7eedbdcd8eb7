"""Websockets of logged-in users: the auth plugin's user on the socket, per-user channels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import make_app
from tests.refusals import refused_with

from trivium import App
from trivium import WebSocket
from trivium.channels import Channels
from trivium.channels import ChannelsDep
from trivium.db import Database
from trivium.http import HTTPConnection
from trivium.testing import TestClient
from trivium.testing import WebSocketRejected


def own_inbox_only(connection: HTTPConnection, channel: str) -> bool:
    user = connection.user
    return channel == f"inbox:{user.id}" if user.is_authenticated else False


@pytest.fixture
def app(tmp_path: Path) -> App:
    db = Database(f"sqlite:///{tmp_path / 'auth.db'}")

    async def create() -> None:
        await db.create_all()
        await db.dispose()

    anyio.run(create)
    add_user(db, username="ada", email="ada@example.com")
    add_user(db, username="bob", email="bob@example.com")
    built, _ = make_app(db)
    built.install(Channels(authorize=own_inbox_only))

    @built.websocket("/inbox/{user_id}")
    async def inbox(websocket: WebSocket, user_id: int, channels: ChannelsDep) -> None:
        async with channels.connect(websocket, f"inbox:{user_id}"):
            async for _ in websocket.iter_text():
                pass

    @built.post("/inbox/{user_id}")
    async def notify(user_id: int, message: dict[str, Any], channels: ChannelsDep) -> None:
        await channels.publish(f"inbox:{user_id}", message)

    return built


def test_anonymous_sockets_are_refused(app: App) -> None:
    with TestClient(app) as client, pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/inbox/1").__enter__()
    assert refused_with(refused.value, 1008)


def test_a_logged_in_user_gets_their_inbox_and_not_another(app: App) -> None:
    with TestClient(app) as client:
        assert login(client, "ada").status_code == 200
        me = client.get("/whoami").json()["id"]
        cookie = {"cookie": f"session={client.cookies['session']}", "origin": "http://testserver"}
        with client.websocket_connect(f"/inbox/{me}", headers=cookie) as inbox:
            client.post(f"/inbox/{me}", json={"text": "hi ada"}, headers=csrf(client))
            assert inbox.receive_json()["data"] == {"text": "hi ada"}
        with pytest.raises(WebSocketRejected):
            client.websocket_connect(f"/inbox/{me + 1}", headers=cookie).__enter__()


def test_a_cookie_from_another_site_cannot_open_the_inbox(app: App) -> None:
    with TestClient(app) as client:
        assert login(client, "bob").status_code == 200
        me = client.get("/whoami").json()["id"]
        forged = {"cookie": f"session={client.cookies['session']}", "origin": "https://evil.test"}
        with pytest.raises(WebSocketRejected) as refused:
            client.websocket_connect(f"/inbox/{me}", headers=forged).__enter__()
        assert refused_with(refused.value, 1008)
