"""The session authenticates websocket handshakes of the app's own or trusted origins only."""

from __future__ import annotations

from typing import Any

import pytest
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import make_app

from trivium import WebSocket
from trivium.csrf import CSRF
from trivium.db import Database
from trivium.testing import TestClient


def _app(db: Database) -> Any:
    app, _ = make_app(db)
    app.install(CSRF(trusted_origins=["https://app.example.com"]))

    @app.websocket("/ws")
    async def whoami(websocket: WebSocket) -> None:
        await websocket.accept()
        method = websocket.auth.method if websocket.auth else None
        await websocket.send_json({"id": websocket.user.id, "method": method})
        await websocket.close()

    return app


def _who(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    with client.websocket_connect("/ws", headers=headers) as session:
        return session.receive_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "origin",
    [
        None,  # not a browser
        "http://testserver",  # the app's own
        "https://testserver",  # its own, TLS ended by a proxy
        "https://app.example.com",  # CSRF(trusted_origins=...)
    ],
)
def test_a_same_origin_or_trusted_handshake_gets_the_session_user(
    db: Database, origin: str | None
) -> None:
    user_id = add_user(db, username="ada")
    with TestClient(_app(db)) as client:
        assert login(client, "ada").status_code == 200
        headers = {} if origin is None else {"Origin": origin}
        assert _who(client, headers) == {"id": user_id, "method": "session"}


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://testserver:8080", "null", "https://sub.app.example.com"],
)
def test_a_cross_origin_handshake_is_not_authenticated_by_the_session(
    db: Database, origin: str
) -> None:
    add_user(db, username="ada")
    with TestClient(_app(db)) as client:
        assert login(client, "ada").status_code == 200
        assert _who(client, {"Origin": origin}) == {"id": None, "method": None}
        assert client.get("/auth/me").status_code == 200  # the session itself is kept


def test_a_cross_origin_handshake_with_an_api_token_is_authenticated(db: Database) -> None:
    user_id = add_user(db, username="ada")
    with TestClient(_app(db)) as client:
        assert login(client, "ada").status_code == 200
        made = client.post("/auth/tokens", json={"name": "cli"}, headers=csrf(client))
        key = made.json()["token"]
        client.cookies.clear()
        headers = {"Origin": "https://evil.example", "Authorization": f"Token {key}"}
        assert _who(client, headers) == {"id": user_id, "method": "token"}
