"""A logged-in request while the database is stalled or down: a 504 or a 503, never a hang.

The user look-up runs outside a request session; it is bounded by the database's
`timeout` all the same. PostgreSQL and MariaDB sit behind `FaultProxy` (tests/faults.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from tests.auth.authapp import add_user
from tests.auth.authapp import login_as
from tests.auth.authapp import make_app
from tests.faults import FaultProxy
from tests.faults import fault_proxy

from trivium import App
from trivium.auth import Auth
from trivium.auth import User
from trivium.db import Database
from trivium.testing import TestClient


@pytest.fixture
def proxy(db: Database, db_url: str) -> Iterator[FaultProxy]:
    """A proxy in front of the test's server database (with user `alice`)."""
    if make_url(db_url).get_backend_name() == "sqlite":
        pytest.skip("needs a server database behind a proxy")
    add_user(db, username="alice", email="alice@example.com")
    with fault_proxy(make_url(db_url).render_as_string(hide_password=False)) as running:
        yield running


def _client(proxy: FaultProxy) -> TestClient:
    return TestClient(_app(proxy)[0])


def _app(proxy: FaultProxy) -> tuple[App, Auth]:
    return make_app(Database(proxy.url, timeout=1), user_cache_seconds=0)


def test_stalled_database_user_lookup_answers_504(proxy: FaultProxy) -> None:
    with _client(proxy) as client:
        login_as(client, "alice")
        assert client.get("/whoami").json()["authenticated"] is True
        proxy.stall()
        response = client.get("/whoami")
        proxy.restore()
        assert response.status_code == 504
        assert response.headers["retry-after"] == "5"
        assert response.json()["detail"] == "the database work took longer than 1 s"
        assert client.get("/whoami").json()["authenticated"] is True  # served again


def test_refusing_database_user_lookup_answers_503(proxy: FaultProxy) -> None:
    with _client(proxy) as client:
        login_as(client, "alice")
        proxy.cut()
        response = client.get("/whoami")
        proxy.restore()
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"


def test_stalled_database_api_token_lookup_answers_504(db: Database, proxy: FaultProxy) -> None:
    app, auth = _app(proxy)
    key = anyio.run(_token, db, auth)
    with TestClient(app) as client:
        headers = {"Authorization": f"Token {key}"}
        assert client.get("/whoami", headers=headers).json()["method"] == "token"
        proxy.stall()
        response = client.get("/whoami", headers=headers)
        proxy.restore()
        assert response.status_code == 504


async def _token(db: Database, auth: Auth) -> str:
    async with db.sessionmaker() as session:
        user = (await session.execute(select(User).where(User.username == "alice"))).scalar_one()
        _, key = await auth.create_token(session, user, "cli")
        await session.commit()
    await db.dispose()
    return key
