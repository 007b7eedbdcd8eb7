"""Bulk actions, select-all, list_editable, save-as, export, autocomplete and object permissions."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from sqlalchemy import func
from sqlalchemy import select
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import Article
from tests.admin.adminapp import ArticleAdmin
from tests.admin.adminapp import Writer
from tests.admin.adminapp import WriterAdmin
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import grant
from tests.admin.adminapp import log_in
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium import App
from trivium.admin import Admin
from trivium.admin import ModelAdmin
from trivium.admin import TabularInline
from trivium.auth import Auth
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.stores import MemoryStore
from trivium.testing import TestClient


def only_even_ids(user: Any, codename: str, obj: Any) -> bool:
    """The object permission hook: staff may touch even-numbered articles only."""
    return codename.endswith("_writer") or obj.id % 2 == 0


def build(db: Database, **auth_options: Any) -> App:
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore(), **auth_options)
    admin = Admin(db, auth)
    admin.register(Article, ArticleAdmin)
    admin.register(Writer, WriterAdmin)
    return App(plugins=[db, auth, admin])


@contextlib.contextmanager
def client_as(db: Database, email: str, *perms: str, **auth_options: Any) -> Iterator[TestClient]:
    anyio.run(seed, db, 12)
    if perms:
        anyio.run(grant, db, email, *perms)
    with TestClient(build(db, **auth_options), follow_redirects=False) as client:
        log_in(client, email)
        yield client


async def _scalar(db: Database, statement: Any) -> Any:
    db = twin(db)
    async with db.sessionmaker() as session:
        value = await session.scalar(statement)
    await db.dispose()
    return value


def scalar(db: Database, statement: Any) -> Any:
    return anyio.run(_scalar, db, statement)


def test_a_custom_action_on_ticked_rows(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article")
        answer = client.post(
            "/admin/blog/article",
            data={"action": "publish", "_selected": ["2", "4"], "csrf_token": csrf_of(page)},
        )
        assert answer.status_code == 303
        assert "published 2" in client.get(answer.headers["location"]).text
        count = select(func.count()).select_from(Article).where(Article.published.is_(True))
        assert scalar(db, count) == 8  # 6 already were, 2 and 4 were not (odd numbers)


def test_select_all_matching_acts_on_every_filtered_row_not_only_the_page(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article?published__exact=0")
        query = re.search(r'name="_changelist_query" value="([^"]*)"', page.text)
        assert query is not None
        confirm = client.post(
            "/admin/blog/article",
            data={
                "action": "delete_selected",
                "select_across": "1",
                "_changelist_query": query.group(1).replace("&amp;", "&"),
                "csrf_token": csrf_of(page),
            },
        )
        assert confirm.status_code == 200
        assert "Are you sure" in confirm.text
        assert confirm.text.count("<li>article: Post") == 6
        assert scalar(db, select(func.count()).select_from(Article)) == 12
        fields = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm.text)
        )
        done = client.post("/admin/blog/article", data={**fields, "csrf_token": csrf_of(confirm)})
        assert done.status_code == 303
        assert scalar(db, select(func.count()).select_from(Article)) == 6
        assert (
            scalar(
                db, select(func.count()).select_from(Article).where(Article.published.is_(False))
            )
            == 0
        )


def test_bulk_actions_recheck_permissions_per_object(db: Database) -> None:
    perms = ("blog.view_article", "blog.change_article", "blog.delete_article")
    with client_as(db, "staff@example.com", *perms, object_permission=only_even_ids) as client:
        page = client.get("/admin/blog/article")
        answer = client.post(
            "/admin/blog/article",
            data={
                "action": "delete_selected",
                "select_across": "1",
                "post": "yes",
                "csrf_token": csrf_of(page),
            },
        )
        assert answer.status_code == 303
        after = client.get(answer.headers["location"]).text
        assert "6 objects were skipped" in after
        remaining = scalar(db, select(func.count()).select_from(Article))
        assert remaining == 6
        assert scalar(db, select(func.count()).select_from(Article).where(Article.id % 2 == 0)) == 0
        refused = client.get("/admin/blog/article/3/change")
        assert refused.status_code == 403
        assert (
            client.post(
                "/admin/blog/article/3/delete", data={"csrf_token": csrf_of(page)}
            ).status_code
            == 403
        )


def test_list_editable_saves_rows_in_place(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/writer")
        assert 'name="form-1-email"' in page.text
        answer = client.post(
            "/admin/blog/writer",
            data={
                "_save": "1",
                "_pk": ["1", "2"],
                "form-1-email": "new@example.org",
                "form-2-email": "x" * 300,
                "form-1-name": "Hacked",
                "csrf_token": csrf_of(page),
            },
        )
        assert answer.status_code == 303
        text = client.get(answer.headers["location"]).text
        assert "Row 2 was not saved" in text
        assert scalar(db, select(Writer.email).where(Writer.id == 1)) == "new@example.org"
        assert scalar(db, select(Writer.name).where(Writer.id == 1)) == "Ursula"
        assert "1 writer object was changed successfully." in text


def test_list_editable_counts_only_the_rows_that_changed(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/writer")
        second = re.search(r'name="form-2-email"[^>]*value="([^"]*)"', page.text)
        assert second is not None, page.text
        answer = client.post(
            "/admin/blog/writer",
            data={
                "_save": "1",
                "_pk": ["1", "2"],
                "form-1-email": "changed@example.org",
                "form-2-email": second.group(1),  # posted back as it was
                "csrf_token": csrf_of(page),
            },
        )
        text = client.get(answer.headers["location"]).text
        assert "1 writer object was changed successfully." in text


def test_save_as_new_copies_the_object(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article/1/change")
        answer = client.post(
            "/admin/blog/article/1/change",
            data={
                "title": "Copy",
                "status": "draft",
                "_saveasnew": "1",
                "csrf_token": csrf_of(page),
            },
        )
        assert answer.status_code == 303
        assert scalar(db, select(func.count()).select_from(Article)) == 13
        assert scalar(db, select(Article.title).where(Article.id == 1)) == "Post 00"


def test_export_streams_the_filtered_rows_as_csv_and_json(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        csv_answer = client.get("/admin/blog/article/export?format=csv&status__exact=live")
        assert csv_answer.headers["content-type"].startswith("text/csv")
        lines = csv_answer.text.strip().splitlines()
        assert lines[0] == "title,writer name,published,status,created at"
        assert sorted(line.split(",")[0] for line in lines[1:]) == ["Post 00", "Post 04", "Post 08"]
        json_answer = client.get("/admin/blog/article/export?format=json&q=post+1")
        rows = json.loads(json_answer.text)
        assert {row["title"] for row in rows} == {"Post 01", "Post 10", "Post 11"}
        assert rows[0]["writer__name"] in ("Ursula", "Octavia")
        assert client.get("/admin/blog/article/export?format=xml").status_code == 400


def test_export_checks_each_row(db: Database) -> None:
    with client_as(
        db, "staff@example.com", "blog.view_article", object_permission=only_even_ids
    ) as client:
        rows = json.loads(client.get("/admin/blog/article/export?format=json").text)
        assert len(rows) == 6


def test_autocomplete_is_paginated_and_permission_checked(db: Database) -> None:
    with client_as(db, "staff@example.com", "blog.change_article") as client:
        refused = client.get("/admin/blog/article/autocomplete/writer_id?q=u")
        assert refused.status_code == 403  # may not view writers
        assert client.get("/admin/blog/article/autocomplete/title").status_code == 404
    anyio.run(_reset, db)
    with client_as(db, "root@example.com") as client:
        found = client.get("/admin/blog/article/autocomplete/writer_id?q=oct")
        assert found.json() == {"results": [{"id": "2", "text": "Octavia"}], "more": False}


def test_autocomplete_answers_to_the_option_name_as_the_docs_say(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        found = client.get("/admin/blog/article/autocomplete/writer?q=oct")
        assert found.json() == {"results": [{"id": "2", "text": "Octavia"}], "more": False}


async def _reset(db: Database) -> None:
    await db.drop_all()
    await db.create_all()
    await db.dispose()


class BadList(ModelAdmin):
    list_display = ("title", "nope")


class BadFilter(ModelAdmin):
    list_filter = ("title",)


class BadAutocomplete(ModelAdmin):
    autocomplete_fields = ("writer",)


class MisspelledOption(ModelAdmin):
    list_dispaly = ("title",)


class StringList(ModelAdmin):
    list_display = "title"


class MisspelledInlineOption(TabularInline):
    relation = "comments"
    extras = 3


class WithMisspelledInline(ModelAdmin):
    inlines = (MisspelledInlineOption,)


class MisspelledHook(ModelAdmin):
    def has_change_permision(self, request: object, obj: object = None) -> bool:
        return False


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (MisspelledOption, r"list_dispaly is not an admin option; did you mean 'list_display'"),
        (StringList, r"give a tuple of names, not a string, e.g. list_display = \('title',\)"),
        (WithMisspelledInline, r"extras is not an admin option; did you mean 'extra'"),
        (MisspelledHook, r"did you mean 'has_change_permission'"),
        (BadList, "'nope' is not a field"),
        (BadFilter, "'title' is not a boolean, choices, enum, date or foreign key field"),
        (BadAutocomplete, "must be registered with the admin with search_fields"),
    ],
)
def test_bad_options_stop_the_start_up(
    db_url: str, options: type[ModelAdmin], message: str
) -> None:
    db = Database(db_url)
    auth = Auth(db, secret_key=SECRET)
    admin = Admin(db, auth)
    admin.register(Article, options)
    app = App(plugins=[db, auth, admin])
    with pytest.raises(ConfigurationError, match=message) as caught:
        app.build()
    assert caught.value.code == "admin-option"


class OwnHelpers(ModelAdmin):
    list_display = ("title", "shout")
    page_note = "helpers of the admin's own are not options"

    def shout(self, obj: Article) -> str:
        return obj.title.upper()


def test_attributes_that_are_not_near_an_option_are_allowed(db_url: str) -> None:
    db = Database(db_url)
    auth = Auth(db, secret_key=SECRET)
    admin = Admin(db, auth)
    admin.register(Article, OwnHelpers)
    App(plugins=[db, auth, admin]).build()


def test_registering_twice_is_refused(db_url: str) -> None:
    db = Database(db_url)
    admin = Admin(db, Auth(db, secret_key=SECRET))
    admin.register(Article)
    with pytest.raises(ConfigurationError, match="registered with the admin already"):
        admin.register(Article)


def test_an_admin_whose_auth_is_not_installed_stops_the_start_up(db_url: str) -> None:
    db = Database(db_url)
    admin = Admin(db, Auth(db, secret_key=SECRET))
    app = App(plugins=[db, admin])
    with pytest.raises(ConfigurationError, match="install the Auth on the app") as caught:
        app.build()
    assert caught.value.code == "admin-auth"


def test_a_bad_prefix_is_refused(db_url: str) -> None:
    db = Database(db_url)
    with pytest.raises(ConfigurationError, match="a path starting with '/'") as caught:
        Admin(db, Auth(db, secret_key=SECRET), prefix="/admin/")
    assert caught.value.code == "admin-prefix"
