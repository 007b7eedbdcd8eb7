"""The admin's history and revert keep a deleted object apart from a new one with its id.

SQLite reuses the highest deleted `INTEGER PRIMARY KEY` id by itself; on the other
databases the test gives the new article the deleted one's id, as a natural key would.
"""

from __future__ import annotations

import re
from typing import Any

import anyio
from sqlalchemy import func
from sqlalchemy import select
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import Article
from tests.admin.adminapp import ArticleAdmin
from tests.admin.adminapp import Writer
from tests.admin.adminapp import WriterAdmin
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import log_in
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium import App
from trivium.admin import Admin
from trivium.audit import Audit
from trivium.audit import AuditEntry
from trivium.auth import Auth
from trivium.db import Database
from trivium.stores import MemoryStore
from trivium.testing import TestClient

REVERT = r'action="(/admin/blog/article/2/history/(\d+)/revert)"'


def build(db: Database) -> App:
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    admin = Admin(db, auth)
    admin.register(Article, ArticleAdmin)
    admin.register(Writer, WriterAdmin)
    app = App(plugins=[db, auth, admin, Audit(db, models=[Article])])

    @app.get("/test/edit")
    async def edit(title: str) -> dict[str, Any]:
        """Alice's edit of article 2, audited."""
        async with db.sessionmaker() as session:
            article = await session.get(Article, 2)
            assert article is not None
            article.title = title
            await session.commit()
        return {}

    @app.get("/test/new")
    async def new(title: str) -> dict[str, Any]:
        """Another user's new article, audited: SQLite gives it the deleted article's id."""
        same = {} if db.url.get_backend_name() == "sqlite" else {"id": 2}
        async with db.sessionmaker() as session:
            article = Article(title=title, **same)
            session.add(article)
            await session.commit()
            return {"id": article.id}

    return app


async def _state(db: Database) -> tuple[Any, int]:
    db = twin(db)
    async with db.sessionmaker() as session:
        title = await session.scalar(select(Article.title).where(Article.id == 2))
        entries = await session.scalar(select(func.count()).select_from(AuditEntry))
    await db.dispose()
    return title, int(entries or 0)


def test_history_and_revert_leave_the_deleted_articles_entries_out(db: Database) -> None:
    anyio.run(seed, db, 2)
    with TestClient(build(db), follow_redirects=False) as client:
        log_in(client, "root@example.com")
        assert client.get("/test/edit", params={"title": "Alice's secret plan"}).status_code == 200
        history = client.get("/admin/blog/article/2/history")
        (old_revert, old_id), *_ = re.findall(REVERT, history.text)
        confirm = client.get("/admin/blog/article/2/delete")
        deleted = client.post("/admin/blog/article/2/delete", data={"csrf_token": csrf_of(confirm)})
        assert deleted.status_code == 303, deleted.text
        assert "was deleted" in client.get(deleted.headers["location"]).text  # the flash, shown
        assert client.get("/test/new", params={"title": "Bob's note"}).json() == {"id": 2}

        history = client.get("/admin/blog/article/2/history")
        assert history.status_code == 200
        assert "Bob&#39;s note" in history.text or "Bob's note" in history.text
        assert "secret plan" not in history.text  # the deleted article's entries
        forms = re.findall(REVERT, history.text)
        assert len(forms) == 1  # Bob's create only
        assert int(forms[0][1]) > int(old_id)

        before = anyio.run(_state, db)
        refused = client.post(old_revert, data={"csrf_token": csrf_of(history)})
        assert refused.status_code == 303, refused.text
        assert refused.headers["location"] == "/admin/blog/article/2/history"
        assert anyio.run(_state, db) == before == ("Bob's note", before[1])  # nothing changed
        page = client.get("/admin/blog/article/2/history")
        assert "is of an earlier article that had the same key" in page.text
        assert "Nothing changed" in page.text
        missing = client.post(
            "/admin/blog/article/2/history/999999/revert", data={"csrf_token": csrf_of(page)}
        )
        assert missing.status_code == 404
