"""The demo app that `make run` serves on http://127.0.0.1:8000.

A to-do list on the batteries: a `Todo` model with migrations (`trivium.db`), a JSON
API written by `crud_router`, server-rendered pages with forms, flash messages and
CSRF protection (`trivium.templating`, `trivium.forms`, `trivium.csrf`), and session
login (`trivium.auth`), a to-do list that updates live in every open window
(`trivium.channels`), password-reset mail sent from a background task (`trivium.tasks`),
a rate-limited API (`trivium.ratelimit`), next to a websocket echo and a server-sent events stream.

At start-up the app applies its migrations and creates the demo user
(`demo@example.com` / `trivium-demo-password`), so a fresh clone runs with no set-up.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import AsyncIterator
from typing import Annotated
from typing import Any

import anyio

from examples.demo import accounts
from examples.demo import admin
from examples.demo import assistant
from examples.demo import pages
from examples.demo.api import todo_api
from examples.demo.config import DATABASE_URL
from examples.demo.config import DEMO_EMAIL
from examples.demo.config import DEMO_PASSWORD
from examples.demo.config import MIGRATIONS
from examples.demo.config import SECRET_KEY
from examples.demo.config import SITE_URL
from examples.demo.config import TEMPLATES
from examples.demo.mail import TaskMailer
from trivium import App
from trivium import Query
from trivium import Request
from trivium import Router
from trivium import WebSocket
from trivium.ai import MCP
from trivium.audit import Audit
from trivium.auth import Auth
from trivium.channels import Channels
from trivium.db import Database
from trivium.db import Migrations
from trivium.ratelimit import RateLimit
from trivium.ratelimit import RateLimits
from trivium.ratelimit import by_user
from trivium.responses import EventSourceResponse
from trivium.responses import HTMLResponse
from trivium.responses import ServerSentEvent
from trivium.tasks import Tasks
from trivium.templating import Templates
from trivium.templating import render


@contextlib.asynccontextmanager
async def prepare(app: App) -> AsyncIterator[dict[str, Any]]:
    """Make sure the demo user exists (the migrations ran at start-up, before this)."""
    db = app.plugin(Database)
    async with db.sessionmaker() as session, session.begin():
        await accounts.ensure_demo_user(session)
    yield {}


ASSISTANT_INSTRUCTIONS = (
    "You manage the user's to-do list: list, add and complete to-dos. Ask before "
    "completing a to-do the user did not name."
)

NEEDS_LOGIN: dict[int | str, dict[str, Any]] = {401: {"description": "Writing needs a login"}}


def create_app(database_url: str = DATABASE_URL) -> App:
    """Build the demo on the database at `database_url`."""
    db = Database(database_url, migrations=MIGRATIONS)
    # On start-up handlers run before the plugins start: the database battery, which
    # warns about unapplied migrations, then finds none.
    app = App(title="Trivium demo", lifespan=prepare, on_startup=[Migrations(db).migrate])
    db.init_app(app)
    # Sessions (kept in the database), authentication and CSRF checks, and the battery's
    # JSON views at /auth (login, me, API tokens...) next to the demo's own login pages.
    # Its migrations (and those of the sessions table) are applied with the project's.
    # Background tasks (REDIS_URL: on Redis, run by the app's own worker): the password
    # reset mail is sent from a task, retried while the mail server is down.
    tasks = Tasks(os.environ.get("REDIS_URL") or "memory://", in_app_worker=True)
    app.install(tasks)
    auth = Auth(
        db,
        secret_key=SECRET_KEY,
        site_url=SITE_URL,
        login_url="/login",
        mail=TaskMailer(tasks),
    )
    auth.init_app(app, prefix="/auth")
    # Browsers get HTML error pages, API clients JSON.
    templates = Templates(TEMPLATES, packages=["trivium.forms"])
    templates.init_app(app, error_pages=True)
    # The password reset (and change) pages at /accounts, for the login page's "Forgot
    # your password?" link: the admin has its own copies under /admin/accounts, for staff.
    app.include_router(
        auth.pages_router(templates=templates, prefix="/accounts", redirect_to="/todos")
    )
    # An audit trail of every write (who, when, what changed), shown in the admin's
    # object history and audit log pages.
    app.install(Audit(db))
    # The admin at /admin (its login pages at /admin/accounts): the demo user is staff.
    admin.site(db, auth).init_app(app)
    # Live updates of the to-do list between windows (REDIS_URL: across worker processes).
    app.install(Channels(os.environ.get("REDIS_URL", "memory")))
    # Rate limits (REDIS_URL: counted exactly across worker processes): the JSON API
    # allows each user 120 requests a minute (anonymous clients: per address).
    app.install(RateLimits(os.environ.get("REDIS_URL")))
    app.include_router(
        todo_api(db), responses=NEEDS_LOGIN, rate_limit=RateLimit("120/minute", key=by_user)
    )
    # The to-do assistant: three curated tools for MCP clients at /mcp (API-token auth).
    app.install(MCP(name="to-do assistant", instructions=ASSISTANT_INSTRUCTIONS))
    app.include_router(assistant.router)
    app.include_router(pages.router)
    app.include_router(accounts.router)
    app.include_router(router)
    return app


# The index page, a health check, a websocket echo and a server-sent events stream.
router = Router()


@router.get("/", name="index", include_in_schema=False)
async def index(request: Request) -> HTMLResponse:
    context = {"demo_email": DEMO_EMAIL, "demo_password": DEMO_PASSWORD}
    return await render(request, "index.html", context)


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


# --8<-- [start:websocket]
@router.websocket("/ws/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for message in websocket.iter_text():
        await websocket.send_text(f"echo: {message}")


# --8<-- [end:websocket]


# --8<-- [start:sse]
@router.get("/events/clock")
async def clock(
    count: Annotated[int, Query(ge=1, le=100)] = 10,
    interval: Annotated[float, Query(ge=0, le=5)] = 1.0,
) -> EventSourceResponse:
    async def ticks() -> AsyncIterator[ServerSentEvent]:
        for n in range(1, count + 1):
            now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
            yield ServerSentEvent(data={"n": n, "time": now}, event="tick", id=str(n))
            if n < count:
                await anyio.sleep(interval)

    return EventSourceResponse(ticks())


# --8<-- [end:sse]

app = create_app()
