"""Sign-ups whose welcome e-mail goes through a task, sent only if the sign-up commits.

`TASKS_BROKER` picks the broker (default: in memory, tasks run inside the app); with
`TASKS_BROKER=redis://localhost:6379/0` (or `amqp://...` and `TASKS_STATE=redis://...`),
run workers with `TRIVIUM_APP=examples.tasks.app:app trivium worker`.
"""

from __future__ import annotations

import os
from typing import Annotated

from sqlalchemy import String
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.tasks import Retry
from trivium.tasks import Tasks

db = Database(os.environ.get("TASKS_DATABASE", "sqlite+aiosqlite:///./tasks-example.db"))
tasks = Tasks(os.environ.get("TASKS_BROKER", "memory://"), state=os.environ.get("TASKS_STATE"))
# First steps create the tables (the outbox's too) at start-up; a project runs
# `trivium db migrate` instead.
app = App(plugins=[db, tasks], on_startup=[db.create_all])
Session = Annotated[AsyncSession, db.depends()]


class Member(IntPK, Model):
    __tablename__ = "example_members"
    email: Mapped[str] = mapped_column(String(254), unique=True)
    welcomed: Mapped[bool] = mapped_column(default=False)


class Mailer:
    """Stands for an SMTP client: one per app, shared by every task run (scope="app")."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, to: str, subject: str) -> None:
        self.sent.append(f"{to}: {subject}")


def get_mailer() -> Mailer:
    return Mailer()


MailerDep = Annotated[Mailer, Depends(get_mailer, scope="app")]


@tasks.task(retry=Retry(max_attempts=5, delay=2.0, on=(ConnectionError,)), timeout=30)
async def send_welcome(member_id: int, session: Session, mailer: MailerDep) -> None:
    """Mail a new member once; the row says whether it was done (an idempotent effect)."""
    member = await session.get(Member, member_id)
    if member is None or member.welcomed:
        return
    await mailer.send(member.email, "Welcome!")
    member.welcomed = True  # committed with the task's session, after the function returns


@tasks.periodic(every=3600)
async def resend_missed(session: Session) -> None:
    """Hourly: welcome the members whose mail was never sent."""
    for member_id in await session.scalars(select(Member.id).where(~Member.welcomed)):
        await send_welcome.options(key=f"welcome-{member_id}").enqueue(member_id)


@app.post("/signups", status_code=201)
async def sign_up(email: str, session: Session) -> dict[str, object]:
    member = Member(email=email)
    session.add(member)
    await session.flush()  # gives member.id
    run = await send_welcome.options(session=session).enqueue(member.id)
    if email.endswith("@example.invalid"):
        raise HTTPException(400, "invalid domain")  # rolls back: no member, no e-mail
    return {"id": member.id, "task": run.id}


@tasks.task(priority=9)  # 0 (the default) to 9: a busy worker takes the highest first
async def send_login_link(email: str, mailer: MailerDep) -> None:
    """Someone waits for this mail: it overtakes welcome mails still queued."""
    await mailer.send(email, "Your login link")


@app.post("/login-links", status_code=202)
async def login_link(email: str) -> dict[str, object]:
    run = await send_login_link.enqueue(email)
    return {"task": run.id}


@app.get("/tasks/{task_id}")
async def task_state(task_id: str) -> dict[str, object]:
    info = await tasks.get(task_id)
    if info is None:
        raise HTTPException(404, "no such task run")
    return {
        "state": info.state,
        "attempts": info.attempts,
        "error": info.error,
        "priority": info.priority,
    }
