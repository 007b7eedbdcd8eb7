"""`SMTPMailer` against an in-process SMTP server (aiosmtpd), and `ConsoleMailer`'s text."""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import anyio
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from aiosmtpd.smtp import LoginPassword

from trivium.auth import ConsoleMailer
from trivium.auth import MailError
from trivium.auth import SMTPMailer
from trivium.auth import build_message
from trivium.errors import ConfigurationError

pytestmark = pytest.mark.drives_no_app

PASSWORD = "s3cret-Pa55"  # noqa: S105 - the test server's


class Inbox:
    """aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"app",
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _message(body: str = "Grüße, voilà: ✓") -> EmailMessage:
    return build_message(
        to="ada@example.com", subject="Bienvenue ✓", body=body, sender="site@example.com"
    )


def test_smtp_mailer_delivers_a_non_ascii_message(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    mailer = SMTPMailer("127.0.0.1", port, username="app", password=PASSWORD, start_tls=False)
    anyio.run(mailer.send, _message())
    ((sender, recipients, received),) = inbox.messages
    assert (sender, recipients) == ("site@example.com", ["ada@example.com"])
    assert received["Subject"] == "Bienvenue ✓"
    body = received.get_body(("plain",))
    assert body is not None
    assert body.get_content().strip() == "Grüße, voilà: ✓"


def test_smtp_mailer_from_url(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    mailer = SMTPMailer.from_url(f"smtp://app:{PASSWORD}@127.0.0.1:{port}?starttls=0")
    assert repr(mailer) == f"SMTPMailer('app:***@127.0.0.1:{port}')"
    anyio.run(mailer.send, _message("hello"))
    assert len(inbox.messages) == 1


def test_a_refused_login_is_a_mail_error_without_the_password(
    smtp: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    _, port = smtp
    mailer = SMTPMailer(
        "127.0.0.1", port, username="app", password="wrong-" + PASSWORD, start_tls=False
    )
    with pytest.raises(MailError, match=f"127.0.0.1:{port} failed: SMTPAuthenticationError"):
        anyio.run(mailer.send, _message("reset: https://x/reset?token=abc"))
    assert PASSWORD not in caplog.text
    assert "token=abc" not in caplog.text
    assert "ada@example.com" in caplog.text


def test_an_unreachable_server_is_a_mail_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mailer = SMTPMailer("127.0.0.1", port, timeout=2)
    with pytest.raises(MailError, match="failed"):
        anyio.run(mailer.send, _message())


def test_bad_smtp_options_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="mail-option"):
        SMTPMailer(use_tls=True, start_tls=True)
    with pytest.raises(ConfigurationError, match="mail-option"):
        SMTPMailer(password="x")
    with pytest.raises(ConfigurationError, match="mail-option"):
        SMTPMailer.from_url("http://mail.example.com")


def test_console_mailer_prints_non_ascii_bodies_as_text() -> None:
    stream = io.StringIO()
    message = build_message(
        to="ada@example.com",
        subject="Réinitialisation",
        body="Bonjour Adà, votre lien : https://x/reset?token=tok123",
        sender="site@example.com",
        secrets=["tok123"],
    )
    anyio.run(ConsoleMailer(stream, show_secrets=True).send, message)
    printed = stream.getvalue()
    assert "Bonjour Adà, votre lien : https://x/reset?token=tok123" in printed
    assert "Subject: Réinitialisation" in printed
    assert "base64" not in printed
    quiet = io.StringIO()
    anyio.run(ConsoleMailer(quiet).send, message)
    assert "tok123" not in quiet.getvalue()
    assert "Bonjour Adà" in quiet.getvalue()


logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's chatter
