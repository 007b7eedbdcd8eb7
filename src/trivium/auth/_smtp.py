"""`SMTPMailer`: send the app's email through an SMTP server, asynchronously (aiosmtplib).

The password never appears in `repr()`, logs or error messages; a failed delivery is
logged with the recipient and the server's answer, never the message body (which may
hold a reset link).
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from urllib.parse import parse_qs
from urllib.parse import unquote
from urllib.parse import urlsplit

from trivium.errors import ConfigurationError
from trivium.errors import MissingDependencyError
from trivium.errors import TriviumError

__all__ = ["MailError", "SMTPMailer"]

logger = logging.getLogger("trivium.mail")


class MailError(TriviumError):
    """The SMTP server could not be reached or refused the message."""


class SMTPMailer:
    """Send messages over SMTP: `await mailer.send(message)`.

    ```python
    mailer = SMTPMailer("smtp.example.com", 587, username="app", password=secret, start_tls=True)
    mailer = SMTPMailer.from_url("smtp://app:secret@smtp.example.com:587?starttls=1")
    ```

    Args:
        host: the SMTP server.
        port: its port (default: 465 with `use_tls`, else 587 with `start_tls`, else 25).
        username: login name, if the server wants one.
        password: its password (never logged or shown).
        use_tls: connect with TLS from the start (port 465, "SMTPS").
        start_tls: upgrade with STARTTLS; `None` upgrades when the server offers it.
        timeout: seconds for connecting and each command.

    Raises:
        ConfigurationError: `use_tls` and `start_tls` together, or a password without a
            username (`mail-option`).
        MissingDependencyError: aiosmtplib is not installed (extra `trivium[mail]`).
    """

    def __init__(  # noqa: PLR0913 - the SMTP connection's settings
        self,
        host: str = "localhost",
        port: int | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        start_tls: bool | None = None,
        timeout: float = 10.0,
    ) -> None:
        try:
            import aiosmtplib  # noqa: F401 - checked at construction, used at send time
        except ModuleNotFoundError:
            raise MissingDependencyError("aiosmtplib", "mail") from None
        if use_tls and start_tls:
            raise ConfigurationError(
                "SMTPMailer: use_tls (implicit TLS, port 465) and start_tls (STARTTLS) "
                "exclude each other; pick one",
                "mail-option",
            )
        if password is not None and not username:
            raise ConfigurationError("SMTPMailer: a password needs a username", "mail-option")
        self.host = host
        """The SMTP server."""
        self.port = port or (465 if use_tls else 587 if start_tls else 25)
        """Its port."""
        self.username = username
        """The login name, if any."""
        self._password = password
        self.use_tls = use_tls
        """Whether the connection is TLS from the start."""
        self.start_tls = start_tls
        """Whether to upgrade with STARTTLS (`None`: when offered)."""
        self.timeout = timeout
        """Seconds for connecting and each command."""

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 10.0) -> SMTPMailer:
        """Build a mailer from `smtp://user:password@host:port` (`smtps://` for implicit TLS).

        `?starttls=1` asks for STARTTLS, `?starttls=0` refuses it.

        Raises:
            ConfigurationError: the scheme is not `smtp` or `smtps` (`mail-option`).
        """
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ConfigurationError(
                f"mail URL scheme {parts.scheme!r} is not supported; use smtp:// or smtps://",
                "mail-option",
            )
        query = parse_qs(parts.query)
        start = query.get("starttls", [None])[0]
        return cls(
            parts.hostname or "localhost",
            parts.port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=parts.scheme == "smtps",
            start_tls=None if start is None else start not in ("0", "false", "no"),
            timeout=timeout,
        )

    def __repr__(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"SMTPMailer('{user}{self.host}:{self.port}')"

    async def send(self, message: EmailMessage) -> None:
        """Deliver `message` to its recipients.

        Raises:
            MailError: the server is unreachable or refused the message; the error names
                the server and its answer, never the password or the body.
        """
        import aiosmtplib

        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self._password,
                use_tls=self.use_tls,
                start_tls=self.start_tls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            problem = f"sending mail to {message['To']} through {self.host}:{self.port} failed: "
            problem += f"{type(exc).__name__}: {_safe(str(exc), self._password)}"
            logger.error("%s", problem)
            raise MailError(problem) from None


def _safe(text: str, password: str | None) -> str:
    return text.replace(password, "***") if password else text
