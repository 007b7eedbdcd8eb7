"""Email senders for the auth views (password reset): a protocol and two implementations.

`Mailer` is anything with `async send(message)`. `ConsoleMailer` prints messages (the
default, for development); `MemoryMailer` keeps them in `outbox` (for tests);
`SMTPMailer` (in `_smtp`) delivers them through an SMTP server.

A message built with `build_message(..., secrets=[token])` remembers which strings in it
are secrets (reset tokens, verification codes). `ConsoleMailer`, whose output usually
ends up in the server's logs, replaces them with `[redacted]` unless it was created with
`show_secrets=True` (local development, where you need the link).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from email.message import EmailMessage
from typing import Protocol
from typing import TextIO
from typing import runtime_checkable
from urllib.parse import quote

__all__ = [
    "REDACTED",
    "ConsoleMailer",
    "EmailMessage",
    "Mailer",
    "MemoryMailer",
    "build_message",
    "message_secrets",
]

REDACTED = "[redacted]"
"""What `ConsoleMailer` prints instead of a secret."""
_TOKEN_QUERY = re.compile(r"([?&](?:token|code|key)=)[^&\s]+", re.IGNORECASE)


@runtime_checkable
class Mailer(Protocol):
    """Something that sends email messages."""

    async def send(self, message: EmailMessage) -> None:
        """Send `message`."""


class _Message(EmailMessage):
    """An `EmailMessage` that knows which of its strings are secrets."""

    secrets: tuple[str, ...] = ()


def build_message(
    *, to: str, subject: str, body: str, sender: str, secrets: Iterable[str] = ()
) -> EmailMessage:
    """Return a plain-text `EmailMessage`; `secrets` are strings a log must not show."""
    message = _Message()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    message.secrets = tuple(s for s in secrets if s)
    return message


def message_secrets(message: EmailMessage) -> tuple[str, ...]:
    """Return the secrets `build_message` recorded on `message` (none for other messages)."""
    return getattr(message, "secrets", ())


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return `text` with each secret (raw or URL-quoted) and any `?token=` value hidden."""
    for secret in secrets:
        for form in {secret, quote(secret, safe="")}:
            text = text.replace(form, REDACTED)
    return _TOKEN_QUERY.sub(rf"\g<1>{REDACTED}", text)


class ConsoleMailer:
    """Print each message to a stream (standard output by default) instead of sending it.

    Args:
        stream: where messages are written (default: `sys.stdout` at send time).
        show_secrets: print reset tokens and links as they are. Off by default, since
            the output of a server usually lands in its logs; turn it on only on a
            development machine, where you need to follow the link.
    """

    def __init__(self, stream: TextIO | None = None, *, show_secrets: bool = False) -> None:
        self.stream = stream
        """Where messages are written; `None` means `sys.stdout` at send time."""
        self.show_secrets = show_secrets
        """Whether secrets (reset tokens) are printed instead of `[redacted]`."""

    async def send(self, message: EmailMessage) -> None:
        """Write `message` to the stream, its secrets redacted unless `show_secrets`."""
        stream = self.stream or sys.stdout
        # The decoded text, never the wire form: a non-ASCII body is base64 on the wire,
        # and a long line quoted-printable, which neither a person nor the redaction reads.
        body = message.get_body(("plain",))
        content = body.get_content() if body is not None else ""
        headers = "".join(f"{k}: {v}\n" for k, v in message.items())
        text = headers + "\n" + content
        if not self.show_secrets:
            text = redact(text, message_secrets(message))
        stream.write(text + "\n")
        stream.flush()


class MemoryMailer:
    """Keep sent messages in `outbox` (for tests)."""

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []
        """The messages sent so far, oldest first."""

    async def send(self, message: EmailMessage) -> None:
        """Append `message` to `outbox`."""
        self.outbox.append(message)
