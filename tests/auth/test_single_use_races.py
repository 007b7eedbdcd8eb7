"""Single-use credentials stay single-use under concurrent requests (every backend)."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import anyio
import httpx
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import make_app

from trivium.auth import JWTConfig
from trivium.auth import MemoryMailer
from trivium.db import Database
from trivium.testing import AsyncTestClient

CONCURRENT = 5


class _Mailer(MemoryMailer):
    """A `MemoryMailer` that says when it sent a message."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = anyio.Event()

    async def send(self, message: EmailMessage) -> None:
        await super().send(message)
        self.sent.set()


def _serve(
    db: Database, test: Callable[[AsyncTestClient], Awaitable[None]], **options: Any
) -> None:
    """Run `test` with an async client of the auth app, in one event loop."""

    async def run() -> None:
        app, _ = make_app(db, **options)
        try:
            async with AsyncTestClient(app) as client:
                await test(client)
        finally:
            await db.dispose()

    anyio.run(run)


async def _together(*requests: Callable[[], Awaitable[httpx.Response]]) -> list[httpx.Response]:
    responses: list[httpx.Response | None] = [None] * len(requests)

    async def send(index: int) -> None:
        responses[index] = await requests[index]()

    async with anyio.create_task_group() as group:
        for index in range(len(requests)):
            group.start_soon(send, index)
    return [r for r in responses if r is not None]


def test_concurrent_refreshes_with_one_token_let_one_win_and_revoke_the_family(
    db: Database,
) -> None:
    add_user(db, username="ada")
    config = JWTConfig(keys={"k1": "k" * 40})

    async def test(client: AsyncTestClient) -> None:
        grant = await client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
        body = {"refresh_token": grant.json()["refresh_token"]}
        answers = await _together(*[lambda: client.post("/auth/refresh", json=body)] * CONCURRENT)
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [200] + [401] * (CONCURRENT - 1), codes
        # The others were reuse: the family is revoked, the winner's new token with it.
        [won] = [answer for answer in answers if answer.status_code == 200]
        again = {"refresh_token": won.json()["refresh_token"]}
        assert (await client.post("/auth/refresh", json=again)).status_code == 401

    _serve(db, test, jwt=config)


def test_a_refresh_token_still_rotates_once_without_concurrency(db: Database) -> None:
    add_user(db, username="ada")
    config = JWTConfig(keys={"k1": "k" * 40})

    async def test(client: AsyncTestClient) -> None:
        grant = await client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
        first = await client.post(
            "/auth/refresh", json={"refresh_token": grant.json()["refresh_token"]}
        )
        assert first.status_code == 200
        second = await client.post(
            "/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}
        )
        assert second.status_code == 200
        assert second.json()["refresh_token"] != first.json()["refresh_token"]

    _serve(db, test, jwt=config)


def test_concurrent_resets_with_one_token_let_exactly_one_set_the_password(
    db: Database,
) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = _Mailer()
    passwords = [f"a brand new passphrase number {n}" for n in range(CONCURRENT)]

    async def test(client: AsyncTestClient) -> None:
        await client.post("/auth/password/reset", json={"email": "ada@example.com"})
        with anyio.fail_after(10):
            await mailer.sent.wait()  # mailed after the answer
        match = re.search(r"token=(\S+)", mailer.outbox[0].get_content())
        assert match is not None
        token = match.group(1)

        def confirm(password: str) -> Callable[[], Awaitable[httpx.Response]]:
            body = {"token": token, "new_password": password}
            return lambda: client.post("/auth/password/reset/confirm", json=body)

        answers = await _together(*[confirm(p) for p in passwords])
        codes = [answer.status_code for answer in answers]
        assert sorted(codes) == [200] + [403] * (CONCURRENT - 1), codes
        refused = [a.json() for a in answers if a.status_code == 403]
        assert refused[0] == {"detail": "The reset link is invalid or has expired"}
        winner = passwords[codes.index(200)]
        for password in passwords:
            login = await client.post(
                "/auth/login", json={"identifier": "ada", "password": password}
            )
            assert login.status_code == (200 if password == winner else 401)
            client.cookies.clear()

    _serve(db, test, mail=mailer, reset_url="x?token={token}")
