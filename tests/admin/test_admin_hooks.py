"""`ModelAdmin` hooks and options: custom filters, display callables, get_queryset, permission hooks."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import anyio
from sqlalchemy import func
from sqlalchemy import select
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import Article
from tests.admin.adminapp import Writer
from tests.admin.adminapp import WriterAdmin
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import log_in
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium import App
from trivium.admin import Admin
from trivium.admin import ListFilter
from trivium.admin import ModelAdmin
from trivium.admin import display
from trivium.auth import Auth
from trivium.db import Database
from trivium.stores import MemoryStore
from trivium.testing import TestClient


class EvenOdd(ListFilter):
    title = "parity"
    parameter_name = "parity"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("even", "Even ids"), ("odd", "Odd ids")]

    def queryset(self, request: Any, statement: Any, value: str) -> Any:
        if value not in ("even", "odd"):
            raise ValueError(f"{value!r} is neither even nor odd")
        return statement.where(Article.id % 2 == (0 if value == "even" else 1))


@display(description="Shouting title", ordering="title")
def loud(article: Article) -> str:
    return article.title.upper()


class HookedAdmin(ModelAdmin):
    list_display = ("title", loud, "summary", "writer")
    list_filter = (EvenOdd, "published")
    list_per_page = 50

    def summary(self, article: Article) -> str:
        return f"{article.title} by {article.writer_id}"

    def get_queryset(self, request: Any) -> Any:
        return select(Article).where(Article.title != "Post 11")

    async def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return obj is None or not obj.published

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@contextlib.contextmanager
def client(db: Database) -> Iterator[TestClient]:
    anyio.run(seed, db, 12)
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    admin = Admin(db, auth)
    admin.register(Article, HookedAdmin)
    admin.register(Writer, WriterAdmin)
    with TestClient(App(plugins=[db, auth, admin]), follow_redirects=False) as test_client:
        log_in(test_client, "root@example.com")
        yield test_client


def titles(text: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', text)


def test_custom_filters_display_callables_and_get_queryset(db: Database) -> None:
    with client(db) as test_client:
        page = test_client.get("/admin/blog/article?parity=odd&o=-title")
        assert page.status_code == 200
        assert "Post 11" not in page.text  # get_queryset leaves it out
        # Odd ids are the even-numbered posts (Post 00 has id 1).
        assert titles(page.text) == [
            "Post 10",
            "Post 08",
            "Post 06",
            "Post 04",
            "Post 02",
            "Post 00",
        ]
        assert "<td>POST 10</td>" in page.text
        assert "Shouting title" in page.text
        assert "<td>Post 10 by " in page.text
        assert "<td>Octavia</td>" in page.text  # the relation, named by its __str__
        assert 'href="?parity=even&amp;o=-title"' in page.text
        bad = test_client.get("/admin/blog/article?parity=prime")
        assert "Ignored the filter &#39;parity&#39;" in bad.text
        assert test_client.get("/admin/blog/article/12/change").status_code == 404


def test_permission_hooks_decide_pages_and_posts(db: Database) -> None:
    with client(db) as test_client:
        published = test_client.get("/admin/blog/article/1/change")  # Post 00 is published
        assert 'name="title"' not in published.text
        refused = test_client.post(
            "/admin/blog/article/1/change", data={"title": "x", "csrf_token": csrf_of(published)}
        )
        assert refused.status_code == 403
        draft = test_client.get("/admin/blog/article/2/change")
        assert 'name="title"' in draft.text
        assert "/admin/blog/article/2/delete" not in draft.text
        assert test_client.get("/admin/blog/article/2/delete").status_code == 403
        page = test_client.get("/admin/blog/article")
        answer = test_client.post(
            "/admin/blog/article",
            data={
                "action": "delete_selected",
                "_selected": ["2", "3"],
                "post": "yes",
                "csrf_token": csrf_of(page),
            },
        )
        assert answer.status_code == 303
        assert anyio.run(_count, db) == 12


async def _count(db: Database) -> int:
    db = twin(db)
    async with db.sessionmaker() as session:
        value = await session.scalar(select(func.count()).select_from(Article))
    await db.dispose()
    return int(value or 0)
