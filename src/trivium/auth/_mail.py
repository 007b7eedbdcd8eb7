"""Email senders for the auth views (password reset): a protocol and two implementations.

`Mailer` is anything with `async send(message)`. `ConsoleMailer` prints messages (the
default, for development); `MemoryMailer` keeps them in `outbox` (for tests). An SMTP
mailer is not built in yet: write a class with an async `send` (e.g. with `aiosmtplib`).
"""

from __future__ import annotations

import sys
from email.message import EmailMessage
from typing import Protocol
from typing import TextIO
from typing import runtime_checkable

__all__ = ["ConsoleMailer", "EmailMessage", "Mailer", "MemoryMailer", "build_message"]


@runtime_checkable
class Mailer(Protocol):
    """Something that sends email messages."""

    async def send(self, message: EmailMessage) -> None:
        """Send `message`."""


def build_message(*, to: str, subject: str, body: str, sender: str) -> EmailMessage:
    """Return a plain-text `EmailMessage`."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


class ConsoleMailer:
    """Print each message to a stream (standard output by default) instead of sending it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        """Where messages are written; `None` means `sys.stdout` at send time."""

    async def send(self, message: EmailMessage) -> None:
        """Write `message` to the stream."""
        stream = self.stream or sys.stdout
        stream.write(message.as_string() + "\n")
        stream.flush()


class MemoryMailer:
    """Keep sent messages in `outbox` (for tests)."""

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []
        """The messages sent so far, oldest first."""

    async def send(self, message: EmailMessage) -> None:
        """Append `message` to `outbox`."""
        self.outbox.append(message)
