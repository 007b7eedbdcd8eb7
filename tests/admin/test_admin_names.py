"""How the pages name objects: their `__str__`, else the model's name and key."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import anyio
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import ArticleComment
from tests.admin.adminapp import Writer
from tests.admin.adminapp import WriterAdmin
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import log_in
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium import App
from trivium.admin import Admin
from trivium.audit import Audit
from trivium.auth import Auth
from trivium.db import Database
from trivium.stores import MemoryStore
from trivium.testing import TestClient


@contextlib.contextmanager
def names_admin(db: Database) -> Iterator[TestClient]:
    anyio.run(seed, db, 1)
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    admin = Admin(db, auth)
    admin.register(Writer, WriterAdmin)
    admin.register(ArticleComment)
    app = App(plugins=[db, auth, admin, Audit(db, models=[Writer])])
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, "root@example.com")
        yield client


async def _add_rows(db: Database) -> None:
    db = twin(db)
    async with db.sessionmaker() as session:
        session.add(Writer(name="<i>Evil</i>"))
        session.add(ArticleComment(article_id=1, author="Ann"))
        await session.commit()
    await db.dispose()


def test_a_str_that_looks_like_markup_is_the_objects_name(db: Database) -> None:
    with names_admin(db) as client:
        anyio.run(_add_rows, db)
        page = client.get("/admin/blog/writer/3/delete")
        assert "&lt;i&gt;Evil&lt;/i&gt;" in page.text
        assert "writer 3" not in page.text


def test_a_model_without_str_is_named_by_model_name_and_key(db: Database) -> None:
    with names_admin(db) as client:
        anyio.run(_add_rows, db)
        page = client.get("/admin/blog/articlecomment/1/delete")
        assert "article comment 1" in page.text
        assert "ArticleComment(id=1)" not in page.text


def test_recent_actions_name_the_objects_that_still_exist(db: Database) -> None:
    with names_admin(db) as client:
        page = client.get("/admin/blog/writer/add")
        added = client.post(
            "/admin/blog/writer/add",
            data={"name": "Fresh Writer", "email": "f@example.org", "csrf_token": csrf_of(page)},
        )
        assert added.status_code == 303, added.text
        client.get(added.headers["location"])  # shows (and uses up) the flash message
        index = client.get("/admin")
        assert 'added: <a href="/admin/blog/writer/3/change">Fresh Writer</a>' in index.text
        # Once deleted, neither its "added" nor its "deleted" line links to a change page.
        page = client.get("/admin/blog/writer/3/delete")
        gone = client.post("/admin/blog/writer/3/delete", data={"csrf_token": csrf_of(page)})
        assert gone.status_code == 303, gone.text
        client.get(gone.headers["location"])
        index = client.get("/admin")
        assert "/admin/blog/writer/3/change" not in index.text
        assert "added: writer 3" in index.text or "added: Fresh Writer" in index.text
