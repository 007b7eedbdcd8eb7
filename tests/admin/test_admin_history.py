"""History, revert and the audit log pages, on `trivium.audit` (every database)."""

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
from tests.admin.adminapp import Coupon
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


def build(db: Database, *, audited: bool = True) -> App:
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    admin = Admin(db, auth)
    admin.register(Article, ArticleAdmin)
    admin.register(Writer, WriterAdmin)
    admin.register(Coupon)
    plugins: list[Any] = [db, auth, admin]
    if audited:
        plugins.append(Audit(db, models=[Article, Writer, Coupon]))
    return App(plugins=plugins)


@contextlib.contextmanager
def client_as(db: Database, email: str, *perms: str, audited: bool = True) -> Iterator[TestClient]:
    anyio.run(seed, db, 3)
    if perms:
        anyio.run(grant, db, email, *perms)
    with TestClient(build(db, audited=audited), follow_redirects=False) as client:
        log_in(client, email)
        yield client


async def _title(db: Database, pk: int) -> Any:
    db = twin(db)
    async with db.sessionmaker() as session:
        value = await session.scalar(select(Article.title).where(Article.id == pk))
    await db.dispose()
    return value


def edit(client: TestClient, pk: int, title: str) -> None:
    page = client.get(f"/admin/blog/article/{pk}/change")
    tag = re.search(r'name="_etag" value="([^"]+)"', page.text)
    assert tag is not None
    data = {"title": title, "status": "draft", "_etag": tag.group(1).replace("&#34;", '"')}
    answer = client.post(
        f"/admin/blog/article/{pk}/change", data={**data, "csrf_token": csrf_of(page)}
    )
    assert answer.status_code == 303, answer.text


def test_history_shows_each_change_with_its_author_and_reverts(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        edit(client, 1, "Second title")
        edit(client, 1, "Third title")
        history = client.get("/admin/blog/article/1/history")
        assert history.status_code == 200
        assert history.text.count("root@example.com") == 3  # the two entries and the header
        assert "<del>Post 00</del>" in history.text
        assert "<ins>Second title</ins>" in history.text
        forms = re.findall(r'action="(/admin/blog/article/1/history/\d+/revert)"', history.text)
        assert len(forms) == 2
        oldest = forms[-1]  # the first change: back to "Second title"
        reverted = client.post(oldest, data={"csrf_token": csrf_of(history)})
        assert reverted.status_code == 303
        assert anyio.run(_title, db, 1) == "Second title"
        again = client.get("/admin/blog/article/1/history")
        assert again.text.count("Revert to this version") == 3  # the revert is audited too
        index = client.get("/admin")
        assert 'href="/admin/audit"' in index.text
        assert "changed: " in index.text


def test_the_audit_log_lists_entries_newest_first_with_links(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        edit(client, 2, "Logged")
        log = client.get("/admin/audit")
        assert log.status_code == 200
        assert 'href="/admin/blog/article/2/history"' in log.text
        only_writers = client.get("/admin/audit?model=admintest_writer")
        assert 'href="/admin/blog/article/2/history"' not in only_writers.text
        bad = client.get("/admin/audit?model=nope&before=x")
        assert "Ignored the unknown model" in bad.text
        assert "Ignored the page cursor" in bad.text


def test_the_audit_log_links_only_to_objects_that_still_exist(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        edit(client, 3, "Soon gone")
        page = client.get("/admin/blog/article/3/delete")
        deleted = client.post("/admin/blog/article/3/delete", data={"csrf_token": csrf_of(page)})
        assert deleted.status_code == 303
        edit(client, 2, "Still here")
        log = client.get("/admin/audit")
        assert "delete" in log.text
        assert 'href="/admin/blog/article/3/history"' not in log.text  # it would 404
        assert 'href="/admin/blog/article/2/history"' in log.text
        links = set(re.findall(r'href="(/admin/blog/article/\d+/history)"', log.text))
        assert links
        for link in links:
            assert client.get(link).status_code == 200


def test_the_audit_log_needs_its_permission(db: Database) -> None:
    with client_as(db, "staff@example.com", "blog.view_article") as client:
        assert client.get("/admin/audit").status_code == 403
        assert client.get("/admin/blog/article/1/history").status_code == 200
        page = client.get("/admin/blog/article/1/history")
        assert "Revert to this version" not in page.text
        refused = client.post(
            "/admin/blog/article/1/history/1/revert", data={"csrf_token": csrf_of(page)}
        )
        assert refused.status_code == 403


def test_staff_with_the_log_permission_read_the_log(db: Database) -> None:
    with client_as(db, "staff@example.com", "blog.view_article", "admin.view_auditlog") as client:
        assert client.get("/admin/audit").status_code == 200


def test_history_without_the_audit_plugin_says_how_to_get_it(db: Database) -> None:
    with client_as(db, "root@example.com", audited=False) as client:
        page = client.get("/admin/blog/article/1/history")
        assert page.status_code == 200
        assert "install <code>trivium.audit.Audit(db)</code>" in page.text


def _add_coupon(client: TestClient, code: str) -> None:
    page = client.get("/admin/shop/coupon/add")
    answer = client.post(
        "/admin/shop/coupon/add",
        data={"code": code, "amount": "1", "csrf_token": csrf_of(page)},
    )
    assert answer.status_code == 303, answer.text


def test_a_revert_the_database_refuses_is_a_message_on_the_history_page(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        _add_coupon(client, "SPRING")
        page = client.get("/admin/shop/coupon/1/change")
        tag = re.search(r'name="_etag" value="([^"]+)"', page.text)
        assert tag is not None
        changed = client.post(
            "/admin/shop/coupon/1/change",
            data={
                "code": "SUMMER",
                "amount": "1",
                "_etag": tag.group(1).replace("&#34;", '"'),
                "csrf_token": csrf_of(page),
            },
        )
        assert changed.status_code == 303, changed.text
        _add_coupon(client, "SPRING")  # another coupon takes the old code
        history = client.get("/admin/shop/coupon/1/history")
        forms = re.findall(r'action="(/admin/shop/coupon/1/history/\d+/revert)"', history.text)
        refused = client.post(forms[-1], data={"csrf_token": csrf_of(history)})
        assert refused.status_code == 303
        assert refused.headers["location"] == "/admin/shop/coupon/1/history"
        shown = client.get("/admin/shop/coupon/1/history")
        assert "could not be put back" in shown.text
        assert "a value that must be unique is taken" in shown.text
