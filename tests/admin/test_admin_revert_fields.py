"""The admin's "Revert to this version" writes only the fields its change form lets the user edit."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import anyio
from sqlalchemy import select
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import Article
from tests.admin.adminapp import ArticleAdmin
from tests.admin.adminapp import ArticleTag
from tests.admin.adminapp import Writer
from tests.admin.adminapp import WriterAdmin
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import grant
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


class LockedArticleAdmin(ArticleAdmin):
    """`published` read-only and `secret_note` excluded (from `ArticleAdmin`)."""

    readonly_fields = ("created_at", "published")


def build(db: Database) -> App:
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    admin = Admin(db, auth)
    admin.register(Article, LockedArticleAdmin)
    admin.register(Writer, WriterAdmin)
    audit = Audit(db, models=[Article])
    app = App(plugins=[db, auth, admin, audit])

    @app.get("/test/write/{pk}")
    async def write(pk: int, title: str, published: bool, note: str, tag: str) -> dict[str, Any]:
        """A write the admin's form could not make (a script's, an API's), audited."""
        async with db.sessionmaker() as session:
            article = await session.get(Article, pk)
            assert article is not None
            article.title, article.published, article.secret_note = title, published, note
            found = await session.scalar(select(ArticleTag).where(ArticleTag.name == tag))
            (await article.awaitable_attrs.tags)[:] = [found or ArticleTag(name=tag)]
            await session.commit()
        return {}

    return app


@contextlib.contextmanager
def client_as(db: Database, email: str, *perms: str) -> Iterator[TestClient]:
    anyio.run(seed, db, 2)
    if perms:
        anyio.run(grant, db, email, *perms)
    with TestClient(build(db), follow_redirects=False) as client:
        log_in(client, email)
        yield client


async def _article(db: Database, pk: int) -> tuple[Any, ...]:
    db = twin(db)
    async with db.sessionmaker() as session:
        article = await session.get(Article, pk)
        assert article is not None
        tags = [t.name for t in await article.awaitable_attrs.tags]
        found = (article.title, article.published, article.secret_note, tags)
    await db.dispose()
    return found


def _write(client: TestClient, title: str, published: bool, note: str, tag: str) -> None:
    query = {"title": title, "published": str(published).lower(), "note": note, "tag": tag}
    assert client.get("/test/write/1", params=query).status_code == 200


def test_revert_leaves_read_only_and_excluded_fields_as_they_are(db: Database) -> None:
    with client_as(db, "staff@example.com", "blog.view_article", "blog.change_article") as client:
        _write(client, "First", published=False, note="one", tag="a")
        _write(client, "Second", published=True, note="two", tag="b")
        history = client.get("/admin/blog/article/1/history")
        forms = re.findall(r'action="(/admin/blog/article/1/history/\d+/revert)"', history.text)
        assert len(forms) == 4  # each write: its columns, then its links
        reverted = client.post(forms[-2], data={"csrf_token": csrf_of(history)})
        assert reverted.status_code == 303, reverted.text
        assert reverted.headers["location"] == "/admin/blog/article/1/change"
        # The title and the inline's links are the form's: put back. `published` (read-only)
        # and `secret_note` (excluded) are not: they keep today's values.
        assert anyio.run(_article, db, 1) == ("First", True, "two", ["a"])
        page = client.get("/admin/blog/article/1/change")
        assert "was put back as it was on" in page.text
        assert "Left as they are (you cannot edit them here): published and 1 field" in page.text
        assert "secret" not in page.text  # an excluded field is counted, never named


def test_revert_that_changes_only_editable_fields_says_nothing_more(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        _write(client, "First", published=True, note="same", tag="a")
        _write(client, "Second", published=True, note="same", tag="a")
        history = client.get("/admin/blog/article/1/history")
        forms = re.findall(r'action="(/admin/blog/article/1/history/\d+/revert)"', history.text)
        reverted = client.post(forms[-2], data={"csrf_token": csrf_of(history)})
        assert reverted.status_code == 303, reverted.text
        assert anyio.run(_article, db, 1) == ("First", True, "same", ["a"])
        page = client.get("/admin/blog/article/1/change")
        assert "was put back as it was on" in page.text
        assert "Left as they are" not in page.text


def test_reverting_to_after_a_delete_needs_the_delete_permission(db: Database) -> None:
    """After a "delete" entry the object is gone: a revert to it deletes the object."""
    with client_as(db, "staff@example.com", "blog.view_article", "blog.change_article") as client:
        page = client.get("/admin/blog/article/2/history")
        _delete_and_restore(client, db)
        history = client.get("/admin/blog/article/2/history")
        ids = re.findall(r"<td>(create|update|delete)</td>", history.text)
        assert ids[:2] == ["create", "delete"]  # the restore, then the delete
        delete_id = _entry_id(db, "delete")
        refused = client.post(
            f"/admin/blog/article/2/history/{delete_id}/revert",
            data={"csrf_token": csrf_of(page)},
        )
        assert refused.status_code == 403
        assert anyio.run(_article, db, 2)[0] == "Post 01"  # still there


def _delete_and_restore(client: TestClient, db: Database) -> None:
    """Delete article 2 and bring it back through `Audit.revert` (both audited)."""
    del client

    async def run() -> None:
        from trivium.audit import AuditEntry

        other = twin(db)
        trail = Audit(other, models=[Article])
        try:
            async with other.sessionmaker() as session:
                article = await session.get(Article, 2)
                await session.delete(article)
                await session.commit()
                entry = await session.scalar(
                    select(AuditEntry).where(AuditEntry.object_pk == "2").order_by(AuditEntry.id)
                )
                assert entry is not None
                assert entry.action == "delete"
                await trail.revert(session, entry, to="before")
                await session.commit()
        finally:
            trail.close()
            await other.dispose()

    anyio.run(run)


def _entry_id(db: Database, action: str) -> int:
    async def run() -> int:
        from trivium.audit import AuditEntry

        other = twin(db)
        async with other.sessionmaker() as session:
            found = await session.scalar(
                select(AuditEntry.id).where(
                    AuditEntry.object_pk == "2", AuditEntry.action == action
                )
            )
        await other.dispose()
        assert found is not None
        return int(found)

    return anyio.run(run)
