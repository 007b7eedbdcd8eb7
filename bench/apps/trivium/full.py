"""The full-stack scenarios written with trivium's batteries, the way an app uses them.

`Auth(db, secret_key=..., session_store=RedisStore(...)).init_app(app)` installs
sessions (kept in Redis), authentication (users in PostgreSQL, `trivium.auth`'s tables)
and CSRF protection; `pages_router` serves the HTML login page the harness logs in
through; `trivium.forms` draws and validates the note form, `trivium.templating`
renders it, and `trivium.db` inserts the row in one transaction per request.

    python full.py setup     # create the tables and the benchmark user (idempotent)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

from pydantic import Field
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium import Request
from trivium.auth import Auth
from trivium.auth import CurrentUser
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Timestamps
from trivium.forms import BoundForm
from trivium.forms import Form
from trivium.forms import Textarea
from trivium.responses import HTMLResponse
from trivium.responses import RedirectResponse
from trivium.stores import RedisStore
from trivium.templating import Templates

DATABASE_URL = os.environ.get(
    "BENCH_ASYNC_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789"  # noqa: S105
EMAIL = "bench@example.com"
PASSWORD = "bench-password-2026"  # noqa: S105 - the benchmark user of a local database

app = App()
# The benchmark's own schema, out of the test suite's way (see bench/setup_db.py).
SEARCH_PATH = {"server_settings": {"search_path": "bench_trivium"}}
db = Database(DATABASE_URL, pool_size=16, max_overflow=0, connect_args=SEARCH_PATH)
db.init_app(app)
sessions = RedisStore(REDIS_URL, prefix="bench:trivium:")
app.on_event("shutdown")(sessions.close)
auth = Auth(db, secret_key=SECRET_KEY, session_store=sessions)
auth.init_app(app)  # sessions, authentication and CSRF; the JSON views at /auth
templates = Templates(Path(__file__).parent / "templates")
templates.init_app(app)
app.include_router(auth.pages_router(templates=templates))  # /accounts/login
Session = Annotated[AsyncSession, db.depends()]


class Note(IntPK, Timestamps, Model):
    __tablename__ = "trivium_note"

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    priority: Mapped[int]


class NoteForm(Form):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Textarea(rows=4), Field(max_length=2000)] = ""
    priority: Annotated[int, Field(ge=1, le=5)] = 3


@app.get("/json")
async def json_message() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/me")
async def me(user: CurrentUser) -> dict[str, str]:
    return {"email": user.email}


@app.get("/notes/new")
async def new_note(request: Request, user: CurrentUser) -> HTMLResponse:
    form = NoteForm.empty(request=request)
    return await templates.render(request, "note_form.html", {"form": form, "user": user})


@app.post("/notes/new")
async def create_note(
    request: Request, user: CurrentUser, form: BoundForm[NoteForm], session: Session
) -> HTMLResponse | RedirectResponse:
    if not form.is_valid:
        context = {"form": form, "user": user}
        return await templates.render(request, "note_form.html", context, status_code=422)
    note = form.data
    session.add(Note(user_id=user.id, title=note.title, body=note.body, priority=note.priority))
    return RedirectResponse("/notes/new", 303)


async def setup() -> None:
    """Create the tables (auth's and the notes) and the benchmark user if missing."""
    from trivium.auth import User
    from trivium.auth import create_user

    await db.create_all()
    async with db.sessionmaker() as session:
        if await User.objects(session).filter(email=EMAIL).first() is None:
            await create_user(session, email=EMAIL, password=PASSWORD)
            await session.commit()
    await db.dispose()


if __name__ == "__main__" and sys.argv[1:] == ["setup"]:
    import asyncio

    asyncio.run(setup())
