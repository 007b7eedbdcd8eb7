"""Big-table behaviour: a fixed number of statements per page, bounded counts, keyset pages."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from typing import Any

import anyio
from sqlalchemy import event
from tests.admin.adminapp import Article
from tests.admin.adminapp import ArticleAdmin
from tests.admin.adminapp import Writer
from tests.admin.adminapp import WriterAdmin
from tests.admin.adminapp import log_in
from tests.admin.adminapp import seed

from trivium import App
from trivium.admin import Admin
from trivium.auth import Auth
from trivium.db import Database
from trivium.stores import MemoryStore
from trivium.testing import TestClient

SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


class SmallCountAdmin(ArticleAdmin):
    count_limit = 7
    ordering = ("-created_at", "title")


def make(db: Database, admin_class: type[ArticleAdmin] = ArticleAdmin) -> App:
    app = App()
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    admin = Admin(db, auth)
    admin.register(Article, admin_class)
    admin.register(Writer, WriterAdmin)
    app.install(db)
    app.install(auth)
    app.install(admin)
    return app


@contextlib.contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    """Record the SQL statements run on `db`'s engine inside the block."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_for_page(db: Database, rows: int, url: str) -> list[str]:
    anyio.run(seed, db, rows)
    with TestClient(make(db), follow_redirects=False) as client:
        log_in(client, "root@example.com")
        client.get(url)  # warm up: prepared caches, first connection
        with counting(db) as statements:
            page = client.get(url)
        assert page.status_code == 200
    return statements


def test_a_change_list_page_runs_the_same_statements_for_few_and_many_rows(db: Database) -> None:
    url = "/admin/blog/article?published__exact=1&q=post&o=-title"
    few = statements_for_page(db, 5, url)
    anyio.run(_reset, db)
    many = statements_for_page(db, 60, url)
    assert len(few) == len(many)
    assert len(many) <= 7
    counts = [s for s in many if "count(" in s.lower()]
    assert len(counts) == 1
    assert "LIMIT" in counts[0].upper()


async def _reset(db: Database) -> None:
    await db.drop_all()
    await db.create_all()
    await db.dispose()


def test_big_lists_say_more_than_and_walk_every_row_with_keyset_cursors(db: Database) -> None:
    anyio.run(seed, db, 23)
    with TestClient(make(db, SmallCountAdmin), follow_redirects=False) as client:
        log_in(client, "root@example.com")
        url = "/admin/blog/article?status__exact=draft"
        seen: list[str] = []
        pages = 0
        while url:
            page = client.get(url)
            assert page.status_code == 200
            if pages == 0:
                assert "more than 7 article objects" in page.text
            seen += re.findall(r'name="_selected" value="(\d+)"', page.text)
            following = re.search(r'rel="next" href="([^"]+)"', page.text)
            url = "/admin/blog/article" + html.unescape(following.group(1)) if following else ""
            if url:
                assert "after=" in url
            pages += 1
        assert len(seen) == len(set(seen)) == 17  # 23 articles, 6 of them live
        assert pages == 4
        bad = client.get("/admin/blog/article?after=bm9wZQ")
        assert "Ignored the page cursor" in bad.text


def test_an_unfiltered_big_table_shows_the_database_estimate(db: Database) -> None:
    if db.url.get_backend_name() not in ("postgresql", "mysql", "mariadb"):
        return  # SQLite keeps no row estimate: the bounded count says "more than"
    anyio.run(seed, db, 12)
    anyio.run(_analyze, db)
    with TestClient(make(db, SmallCountAdmin), follow_redirects=False) as client:
        log_in(client, "root@example.com")
        page = client.get("/admin/blog/article")
        assert "about 12 article objects" in page.text


async def _analyze(db: Database) -> None:
    from sqlalchemy import text

    async with db.engine.connect() as connection:
        await connection.execute(
            text(
                f"ANALYZE {'TABLE ' if db.url.get_backend_name() != 'postgresql' else ''}admintest_article"
            )
        )
        await connection.commit()
    await db.dispose()


def test_a_page_number_past_the_end_shows_the_last_page_and_says_so(db: Database) -> None:
    anyio.run(seed, db, 7)  # two pages of five
    with TestClient(make(db), follow_redirects=False) as client:
        log_in(client, "root@example.com")
        last = client.get("/admin/blog/article?p=2&o=title")
        past = client.get("/admin/blog/article?p=999&o=title")
    assert past.status_code == 200
    assert "Page 999 is past the last page; showing page 2." in past.text
    rows = re.compile(r'href="/admin/blog/article/\d+/change[^"]*"')
    assert rows.findall(past.text) == rows.findall(last.text) != []
