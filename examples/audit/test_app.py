from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from examples.audit.app import create_app
from trivium.auth import create_user
from trivium.db import Database
from trivium.testing import TestClient

SECRET = "example-secret-key-0123456789-abcdefghijklmnop"
PASSWORD = "correct horse battery staple"


def add_user(url: str, username: str, *, staff: bool = False) -> None:
    async def add() -> None:
        db = Database(url)
        async with db.sessionmaker() as session:
            await create_user(session, username=username, password=PASSWORD, is_staff=staff)
            await session.commit()
        await db.dispose()

    anyio.run(add)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}"
    with TestClient(create_app(url, SECRET)) as client:
        add_user(url, "ada")
        add_user(url, "grace", staff=True)
        yield client


def login(client: TestClient, username: str) -> dict[str, str]:
    client.cookies.clear()
    answer = client.post("/auth/login", json={"identifier": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": client.get("/auth/csrf").json()["csrf_token"]}


def test_history_shows_who_changed_what(client: TestClient) -> None:
    csrf = login(client, "ada")
    note = client.post(
        "/notes", json={"title": "Plan", "share_code": "s3cr3t"}, headers=csrf
    ).json()
    client.patch(f"/notes/{note['id']}", json={"title": "Plan B"}, headers=csrf)
    update, create = client.get(f"/notes/{note['id']}/history").json()
    assert update["action"] == "update"
    assert update["changes"] == {"title": ["Plan", "Plan B"]}
    assert create["changes"]["share_code"] == [None, "[redacted]"]
    assert create["actor_kind"] == "user"
    assert create["actor_id"] == update["actor_id"]


def test_staff_revert_a_note_and_the_revert_is_audited(client: TestClient) -> None:
    csrf = login(client, "ada")
    note = client.post("/notes", json={"title": "v1"}, headers=csrf).json()
    client.patch(f"/notes/{note['id']}", json={"title": "v2", "body": "oops"}, headers=csrf)
    first: dict[str, Any] = client.get(f"/notes/{note['id']}/history").json()[-1]
    assert client.post(f"/audit/{first['id']}/revert", headers=csrf).status_code == 403
    staff_csrf = login(client, "grace")
    answer = client.post(f"/audit/{first['id']}/revert", headers=staff_csrf)
    assert answer.json() == {"restored": True}
    restored = client.get(f"/notes/{note['id']}").json()
    assert (restored["title"], restored["body"]) == ("v1", "")
    newest = client.get("/audit", params={"action": "update"}).json()[0]
    assert newest["changes"] == {"title": ["v2", "v1"], "body": ["oops", ""]}
    assert newest["actor_id"] != first["actor_id"]


def test_the_log_pages_with_a_cursor_and_refuses_bad_filters(client: TestClient) -> None:
    csrf = login(client, "grace")
    for n in range(25):
        client.post("/notes", json={"title": f"n{n}"}, headers=csrf)
    first = client.get("/audit", params={"action": "create"}).json()
    second = client.get("/audit", params={"action": "create", "before": first[-1]["id"]}).json()
    assert (len(first), len(second)) == (20, 5)
    assert first[0]["id"] > first[-1]["id"] > second[0]["id"]
    assert client.get("/audit", params={"action": "drop"}).status_code == 400
    login(client, "ada")
    assert client.get("/audit").status_code == 403
