"""Settings from the environment, and the request dependencies the routers share.

`create_app()` builds one `Database` per app (tests give each app a fresh file), so the
handlers reach it through the request instead of a module global.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from sqlalchemy.ext.asyncio import AsyncSession

from trivium import Depends
from trivium import Request
from trivium.db import Database

HERE = Path(__file__).parent
MIGRATIONS = HERE / "migrations"
TEMPLATES = HERE / "templates"

# Next to the code (`*.db` is git-ignored; `trivium run --reload` ignores database files).
DATABASE_URL = os.environ.get(
    "TRIVIUM_DEMO_DATABASE_URL", f"sqlite+aiosqlite:///{HERE / 'demo.db'}"
)
"""`examples/demo/demo.db` (SQLite) unless `TRIVIUM_DEMO_DATABASE_URL` says otherwise."""
SECRET_KEY = os.environ.get(
    "TRIVIUM_DEMO_SECRET_KEY", "demo-only-secret-key-never-use-it-in-production-0123456789"
)
"""Signs the session cookie; set `TRIVIUM_DEMO_SECRET_KEY` anywhere but your laptop."""
SITE_URL = os.environ.get("TRIVIUM_DEMO_SITE_URL") or None
"""The demo's public address (`https://todo.example.com`), which links in emails start with.

Unset, the demo runs on a laptop: in production mode (`TRIVIUM_ENV=production`) it then
refuses to start, as `trivium.auth` does without a trusted address.
"""

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "trivium-demo-password"
"""The demo user, created at start-up when missing (see `accounts.ensure_demo_user`)."""


# --8<-- [start:dependencies]
def get_db(request: Request) -> Database:
    """Return the app's database (installed by `db.init_app(app)`)."""
    database: Database = request.app.plugin(Database)
    return database


async def session(
    db: Annotated[Database, Depends(get_db)],
) -> AsyncIterator[AsyncSession]:
    """Yield a session: committed when the handler returns, rolled back when it raises."""
    async with db.sessionmaker() as opened:
        try:
            yield opened
        except BaseException:
            await opened.rollback()
            raise
        await opened.commit()


# "function" scope: the commit happens before the response is sent, as db.depends() does.
Session = Annotated[AsyncSession, Depends(session, scope="function")]
# --8<-- [end:dependencies]
