from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from examples.tasks import app as example
from trivium.testing import AsyncTestClient

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[AsyncTestClient]:
    example.db.url = example.db.url.set(database=str(tmp_path / "tasks.db"))
    await example.db.create_all()
    async with AsyncTestClient(example.app) as client:
        yield client
    await example.db.dispose()


async def test_a_sign_up_sends_its_welcome_mail_after_commit(client: AsyncTestClient) -> None:
    mailer = await _mailer()
    response = await client.post("/signups", params={"email": "ada@example.com"})
    assert response.status_code == 201
    await example.tasks.drain()
    state = await client.get(f"/tasks/{response.json()['task']}")
    assert state.json() == {"state": "done", "attempts": 1, "error": None, "priority": 0}
    assert "ada@example.com: Welcome!" in mailer.sent


async def test_a_rolled_back_sign_up_sends_nothing(client: AsyncTestClient) -> None:
    mailer = await _mailer()
    before, runs = list(mailer.sent), len(await example.tasks.list())
    response = await client.post("/signups", params={"email": "bob@example.invalid"})
    assert response.status_code == 400
    await example.tasks.drain()
    assert mailer.sent == before
    assert len(await example.tasks.list()) == runs


async def test_the_hourly_task_welcomes_missed_members_once(client: AsyncTestClient) -> None:
    mailer = await _mailer()
    await client.post("/signups", params={"email": "cy@example.com"})
    await example.tasks.drain()
    await example.resend_missed.enqueue()
    await example.tasks.drain()
    assert [line for line in mailer.sent if line.startswith("cy@")] == ["cy@example.com: Welcome!"]


async def test_a_login_link_goes_out_at_the_highest_priority(client: AsyncTestClient) -> None:
    mailer = await _mailer()
    response = await client.post("/login-links", params={"email": "di@example.com"})
    assert response.status_code == 202
    await example.tasks.drain()
    state = await client.get(f"/tasks/{response.json()['task']}")
    assert state.json()["priority"] == 9
    assert "di@example.com: Your login link" in mailer.sent


async def test_the_app_creates_its_tables_at_start_up(tmp_path: Path) -> None:
    # What `trivium run examples.tasks.app:app` does: no create_all() beforehand.
    example.db.url = example.db.url.set(database=str(tmp_path / "fresh.db"))
    try:
        async with AsyncTestClient(example.app) as client:
            response = await client.post("/signups", params={"email": "ed@example.com"})
            assert response.status_code == 201
            await example.tasks.drain()
            state = await client.get(f"/tasks/{response.json()['task']}")
            assert state.json()["state"] == "done"
    finally:
        await example.db.dispose()


async def _mailer() -> example.Mailer:
    async with example.app.resolve(_get) as mailer:
        return mailer


async def _get(mailer: example.MailerDep) -> example.Mailer:
    return mailer
