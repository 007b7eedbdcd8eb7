"""The demo's mail goes through a task: `Auth(mail=TaskMailer(tasks))`.

The password-reset view hands its message to this mailer, which enqueues `send_mail`
and returns at once. The task, retried with backoff when the mail server is down,
hands the message to the real mailer (the console here; an `SMTPMailer` in production).
The reset link is a secret: it is redacted from the run's state (`redact=`), so
`trivium tasks show` and the admin never display it.
"""

from __future__ import annotations

from email.message import EmailMessage

from trivium.auth import ConsoleMailer
from trivium.auth import Mailer
from trivium.auth import build_message
from trivium.tasks import Retry
from trivium.tasks import Task
from trivium.tasks import Tasks


class TaskMailer:
    """A `Mailer` that sends each message from a task, through `mailer`."""

    def __init__(self, tasks: Tasks, mailer: Mailer | None = None) -> None:
        # On a laptop the mail is printed in the server's console, reset link included
        # (it must be readable to be followed); in production pass an `SMTPMailer`.
        self.mailer = mailer or ConsoleMailer(show_secrets=True)

        @tasks.task(
            name="demo.send_mail",
            retry=Retry(max_attempts=5, delay=5.0, on=(OSError,)),
            timeout=60,
            redact=("body", "secrets"),
        )
        async def send_mail(
            to: str, subject: str, body: str, sender: str, secrets: list[str]
        ) -> None:
            message = build_message(
                to=to, subject=subject, body=body, sender=sender, secrets=secrets
            )
            await self.mailer.send(message)

        self.task: Task[..., None] = send_mail

    async def send(self, message: EmailMessage) -> None:
        """Enqueue `message` (a plain-text message from `build_message`)."""
        await self.task.enqueue(
            to=str(message["To"]),
            subject=str(message["Subject"]),
            body=message.get_content(),
            sender=str(message["From"]),
            secrets=list(getattr(message, "secrets", ())),  # kept by build_message
        )
