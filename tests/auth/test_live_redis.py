"""Two server processes share logins: sessions in Redis, users in one database."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests import live
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import SECRET
from tests.auth.authapp import add_user

from trivium.db import Database

pytestmark = pytest.mark.live

REDIS_URL = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")

APP = """
from trivium import App
from trivium.auth import Auth
from trivium.db import Database
from trivium.stores import RedisStore

db = Database({db_url!r})
app = App()
db.init_app(app)
store = RedisStore({redis_url!r}, prefix={prefix!r})
# A long cache: only the other server's message can explain a change seen at once.
Auth(db, secret_key={secret!r}, session_store=store, user_cache_seconds=300).init_app(app)


@app.post("/deactivate/{{user_id}}")
async def deactivate(user_id: int) -> str:
    from trivium.auth import User

    async with db.sessionmaker() as session:
        user = await session.get(User, user_id)
        user.is_active = False
        await session.commit()
    return "done"


@app.get("/ping")
async def ping() -> str:
    return "pong"
"""


@pytest.fixture
def servers(db: Database, db_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if not REDIS_URL:
        pytest.skip(
            "the live auth test needs TRIVIUM_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)"
        )
    prefix = f"test-auth-{uuid.uuid4().hex[:8]}:"
    (tmp_path / "liveauth.py").write_text(
        APP.format(db_url=db_url, secret=SECRET, redis_url=REDIS_URL, prefix=prefix)
    )
    env = live.environment(tmp_path)
    started: list[live.Server] = []
    try:
        for _ in range(2):  # both start at once
            started.append(live.launch("liveauth:app", log_dir=tmp_path, env=env, cwd=tmp_path))
        for server in started:
            live.wait_until_ready(server, "/ping", ready=lambda answer: answer.status_code == 200)
        yield started[0].url, started[1].url
    finally:
        for server in started:
            live.stop(server.process)


def test_login_on_one_server_is_seen_by_the_other(db: Database, servers: tuple[str, str]) -> None:
    user_id = add_user(db, username="ada")
    first, second = servers
    with httpx.Client(base_url=first) as a:
        assert (
            a.post("/auth/login", json={"identifier": "ada", "password": PASSWORD}).status_code
            == 200
        )
        cookie = a.cookies["session"]
    with httpx.Client(base_url=second, cookies={"session": cookie}) as b:
        response = b.get("/auth/me")
        assert response.status_code == 200
        assert response.json()["id"] == user_id
        token = b.get("/auth/csrf").json()["csrf_token"]
        assert b.post("/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204
    with httpx.Client(base_url=first, cookies={"session": cookie}) as a:
        assert a.get("/auth/me").status_code == 401


def test_a_user_changed_on_one_server_is_forgotten_by_the_others_cache(
    db: Database, servers: tuple[str, str]
) -> None:
    user_id = add_user(db, username="grace")
    first, second = servers
    with httpx.Client(base_url=first) as a:
        login = a.post("/auth/login", json={"identifier": "grace", "password": PASSWORD})
        assert login.status_code == 200
        cookie = a.cookies["session"]
    with httpx.Client(base_url=second, cookies={"session": cookie}) as b:
        for _ in range(3):  # now in the second server's cache
            assert b.get("/auth/me").status_code == 200
        assert httpx.post(f"{first}/deactivate/{user_id}").text == '"done"'
        # Pub/sub delivery takes milliseconds; the cache would keep the row for 300 s.
        deadline = time.monotonic() + 10
        status = 200
        while status == 200 and time.monotonic() < deadline:
            status = b.get("/auth/me").status_code
            time.sleep(0.02)
        assert status == 401
