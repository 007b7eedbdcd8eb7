"""Secrets are neither echoed nor logged, and the reset request tells nothing by its timing."""

from __future__ import annotations

import io
import re
from typing import Any

import anyio
import pytest
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import make_app
from tests.auth.test_pages import csrf_of
from tests.auth.test_pages import make_pages_app

from trivium.auth import ConsoleMailer
from trivium.auth import MemoryMailer
from trivium.auth import create_user
from trivium.db import Database
from trivium.testing import AsyncTestClient
from trivium.testing import TestClient

LONG = "p" * 5000  # over the 4096-character limit of password fields


def test_login_and_signup_422_do_not_echo_the_password(db: Database) -> None:
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        login = client.post("/auth/login", json={"identifier": "ada", "password": LONG})
        signup = client.post("/auth/signup", json={"email": "ada@example.com", "password": LONG})
        missing = client.post("/auth/login", json={"password": "my-secret-pass"})
    for response in (login, signup, missing):
        assert response.status_code == 422
        assert LONG not in response.text
        assert "my-secret-pass" not in response.text
    [error] = login.json()["detail"]
    assert error["loc"][-1] == "password"
    assert "input" not in error


@pytest.mark.parametrize("email", ["bob", "<script>@x", "a@@example.com", "a b@example.com"])
def test_json_signup_refuses_what_is_not_an_email_address(db: Database, email: str) -> None:
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        response = client.post("/auth/signup", json={"email": email, "password": PASSWORD})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-1] == "email"
    assert "valid email" in error["msg"]


def test_json_signup_stores_the_normalised_address(db: Database) -> None:
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        response = client.post(
            "/auth/signup", json={"email": " Ada@EXAMPLE.com ", "password": PASSWORD}
        )
    assert response.status_code == 201
    assert response.json()["email"] == "ada@example.com"


def _reset_via_console(db: Database, mailer: ConsoleMailer) -> str:
    add_user(db, username="ada", email="ada@example.com")
    app, _ = make_app(db, mail=mailer, reset_url="https://app.example/reset?token={token}")
    with TestClient(app) as client:
        assert client.post("/auth/password/reset", json={"email": "ada@example.com"}).is_success
    assert isinstance(mailer.stream, io.StringIO)
    return mailer.stream.getvalue()


def test_console_mailer_redacts_reset_tokens_by_default(db: Database) -> None:
    output = _reset_via_console(db, ConsoleMailer(io.StringIO()))
    assert "To: ada@example.com" in output
    assert "https://app.example/reset?token=[redacted]" in output
    assert not re.search(r"token=(?!\[redacted\])", output)


def test_console_mailer_shows_tokens_when_told_to(db: Database) -> None:
    output = _reset_via_console(db, ConsoleMailer(io.StringIO(), show_secrets=True))
    match = re.search(r"token=(\S+)", output)
    assert match is not None
    assert match.group(1) != "[redacted]"


class _WatchingMailer(MemoryMailer):
    """Wait (up to a limit) for the client to have its answer before "sending"."""

    def __init__(self) -> None:
        super().__init__()
        self.answered = anyio.Event()
        self.sent_after_answer: list[bool] = []

    async def send(self, message: object) -> None:
        with anyio.move_on_after(2):
            await self.answered.wait()
        self.sent_after_answer.append(self.answered.is_set())
        await super().send(message)  # type: ignore[arg-type]


async def _answered_then_mailed(
    client: AsyncTestClient, mailer: _WatchingMailer, url: str, **request: Any
) -> int:
    """POST `url`; once the whole answer is in, let the mailer go. Return the status."""
    async with client.stream("POST", url, **request) as response:
        size, received = int(response.headers["content-length"]), b""
        if size == 0:  # a redirect: the headers are the whole answer
            mailer.answered.set()
        async for chunk in response.aiter_raw():
            received += chunk
            if len(received) == size:  # the whole answer is here: let the mail go
                mailer.answered.set()
    return response.status_code


@pytest.mark.anyio
async def test_html_reset_request_answers_before_the_mail_is_sent(db: Database) -> None:
    async with db.sessionmaker() as session:
        await create_user(session, email="ada@example.com", password=PASSWORD)
        await session.commit()
    mailer = _WatchingMailer()
    app = make_pages_app(db, mail=mailer)
    async with AsyncTestClient(app, follow_redirects=False) as client:
        form = await client.get("/accounts/password/reset")
        data = {"email": "ada@example.com", "csrf_token": csrf_of(form)}
        status = await _answered_then_mailed(client, mailer, "/accounts/password/reset", data=data)
    assert status == 303
    assert mailer.sent_after_answer == [True]
    await db.dispose()


@pytest.mark.anyio
async def test_json_reset_request_answers_before_the_mail_is_sent(db: Database) -> None:
    async with db.sessionmaker() as session:
        await create_user(session, email="ada@example.com", password=PASSWORD)
        await session.commit()
    mailer = _WatchingMailer()
    app, _ = make_app(db, mail=mailer, reset_url="https://app.example/r?token={token}")
    async with AsyncTestClient(app) as client:
        json = {"email": "ada@example.com"}
        status = await _answered_then_mailed(client, mailer, "/auth/password/reset", json=json)
    assert status == 202
    assert mailer.sent_after_answer == [True]
    assert mailer.outbox[0]["To"] == "ada@example.com"
    await db.dispose()
