"""Inlines: one-to-many rows and many-to-many links edited on the parent's page."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import anyio
from sqlalchemy import select
from tests.admin.adminapp import Article
from tests.admin.adminapp import ArticleComment
from tests.admin.adminapp import ArticleTag
from tests.admin.adminapp import article_tags
from tests.admin.adminapp import grant
from tests.admin.adminapp import log_in
from tests.admin.adminapp import make_app
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium.db import Database
from trivium.testing import TestClient


async def _tags(db: Database) -> None:
    async with db.sessionmaker() as session:
        session.add_all([ArticleTag(name=name) for name in ("red", "green", "blue", "grey")])
        other = (await session.scalars(select(Article).where(Article.id == 2))).one()
        session.add(ArticleComment(article_id=other.id, author="elsewhere"))
        await session.commit()
    await db.dispose()


@contextlib.contextmanager
def client_as(db: Database, email: str, *perms: str) -> Iterator[TestClient]:
    anyio.run(seed, db, 3)
    anyio.run(_tags, db)
    if perms:
        anyio.run(grant, db, email, *perms)
    app, _, _ = make_app(db)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, email)
        yield client


async def _rows(db: Database, statement: Any) -> list[Any]:
    db = twin(db)
    async with db.sessionmaker() as session:
        rows = list((await session.execute(statement)).all())
    await db.dispose()
    return rows


def rows(db: Database, statement: Any) -> list[Any]:
    return anyio.run(_rows, db, statement)


def form_of(page: Any) -> dict[str, Any]:
    """The page's form fields as a browser would post them (unticked boxes left out)."""
    fields: dict[str, Any] = {}
    text = re.sub(r"<template.*?</template>", "", page.text, flags=re.S)  # rows for the script
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", text):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = value.group(1).replace("&#34;", '"') if value else ""
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', text, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        fields[name] = chosen.group(1) if chosen else ""
    fields.pop("_saveasnew", None)
    fields.pop("_addanother", None)
    fields.pop("_continue", None)
    return fields


def comments(db: Database) -> list[tuple[str, str, bool]]:
    query = select(ArticleComment.author, ArticleComment.text, ArticleComment.approved).where(
        ArticleComment.article_id == 1
    )
    return sorted(tuple(row) for row in rows(db, query.order_by(ArticleComment.id)))


def linked(db: Database) -> list[str]:
    query = select(ArticleTag.name).join(article_tags).where(article_tags.c.article_id == 1)
    return sorted(row[0] for row in rows(db, query))


def test_rows_are_added_changed_deleted_and_links_made_and_removed(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article/1/change")
        assert 'name="comments-TOTAL" value="2"' in page.text  # two empty extra rows
        assert 'name="tags-TOTAL" value="1"' in page.text
        data = form_of(page)
        data.update(
            {"comments-0-author": "Ann", "comments-0-text": "First!", "comments-0-approved": "true"}
        )
        data.update({"comments-1-author": "Bob", "tags-0-id": "1"})
        saved = client.post("/admin/blog/article/1/change", data=data)
        assert saved.status_code == 303, saved.text
        assert comments(db) == [("Ann", "First!", True), ("Bob", "", False)]
        assert linked(db) == ["red"]

        page = client.get("/admin/blog/article/1/change")
        assert 'name="comments-TOTAL" value="4"' in page.text
        assert 'value="Ann"' in page.text
        data = form_of(page)
        data.update(
            {
                "comments-0-text": "Edited",
                "comments-1-DELETE": "on",
                "tags-0-DELETE": "on",
                "tags-1-id": "2",
            }
        )
        saved = client.post("/admin/blog/article/1/change", data=data)
        assert saved.status_code == 303, saved.text
        assert comments(db) == [("Ann", "Edited", True)]
        assert linked(db) == ["green"]


def test_an_invalid_row_redisplays_with_its_error_and_saves_nothing(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article/1/change")
        data = form_of(page)
        data.update(
            {"title": "Changed", "comments-0-author": "x" * 101, "comments-1-author": "Kept"}
        )
        answer = client.post("/admin/blog/article/1/change", data=data)
        assert answer.status_code == 422
        assert "Row 1 of comments has errors." in answer.text
        assert (
            'id="id_comments-0-author" value="' + "x" * 101 + '" aria-invalid="true"' in answer.text
        )
        assert 'value="Kept"' in answer.text
        assert comments(db) == []
        assert rows(db, select(Article.title).where(Article.id == 1)) == [("Post 00",)]


def test_links_are_checked_and_bounded_by_max_num(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article/1/change")
        data = form_of(page)
        data.update(
            {
                "tags-TOTAL": "4",
                "tags-0-id": "1",
                "tags-1-id": "2",
                "tags-2-id": "3",
                "tags-3-id": "4",
            }
        )
        too_many = client.post("/admin/blog/article/1/change", data=data)
        assert too_many.status_code == 422
        assert "tags: at most 3 rows." in too_many.text
        data = form_of(page)
        data.update({"tags-0-id": "999"})
        missing = client.post("/admin/blog/article/1/change", data=data)
        assert missing.status_code == 422
        assert "no article tag has the key 999" in missing.text
        assert linked(db) == []


def test_rows_of_another_parent_cannot_be_edited_through_this_one(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article/1/change")
        other = rows(db, select(ArticleComment.id).where(ArticleComment.author == "elsewhere"))[0][
            0
        ]
        data = form_of(page)
        data.update({"comments-0-id": str(other), "comments-0-author": "hijacked"})
        answer = client.post("/admin/blog/article/1/change", data=data)
        assert answer.status_code == 422
        assert "does not belong here" in answer.text
        assert rows(db, select(ArticleComment.author).where(ArticleComment.id == other)) == [
            ("elsewhere",)
        ]


def test_inline_rows_need_the_inline_models_permissions(db: Database) -> None:
    perms = ("blog.view_article", "blog.change_article")
    with client_as(db, "staff@example.com", *perms) as client:
        page = client.get("/admin/blog/article/1/change")
        assert 'name="comments-0-author"' not in page.text  # no empty rows without add
        data = form_of(page)
        data.update({"comments-TOTAL": "1", "comments-0-author": "Sneaky"})
        answer = client.post("/admin/blog/article/1/change", data=data)
        assert answer.status_code == 422
        assert "You may not add comments." in answer.text
        assert comments(db) == []


async def _comment_on_first(db: Database) -> None:
    db = twin(db)
    async with db.sessionmaker() as session:
        session.add(ArticleComment(article_id=1, author="Ann", text="kept"))
        await session.commit()
    await db.dispose()


PARENT_ONLY = ("blog.view_article", "blog.change_article", "blog.view_articlecomment")


def test_rows_the_user_may_not_change_are_read_only_and_the_parent_saves(db: Database) -> None:
    with client_as(db, "staff@example.com", *PARENT_ONLY) as client:
        anyio.run(_comment_on_first, db)
        page = client.get("/admin/blog/article/1/change")
        assert 'name="comments-0-author"' not in page.text
        assert "kept" in page.text
        assert "-DELETE" not in page.text  # no delete permission: no box
        data = form_of(page)
        data["title"] = "Renamed"
        saved = client.post("/admin/blog/article/1/change", data=data)
        assert saved.status_code == 303, saved.text
    assert rows(db, select(Article.title).where(Article.id == 1)) == [("Renamed",)]
    assert comments(db) == [("Ann", "kept", False)]


def test_rows_posted_back_unchanged_are_not_changes(db: Database) -> None:
    with client_as(db, "staff@example.com", *PARENT_ONLY) as client:
        anyio.run(_comment_on_first, db)
        page = client.get("/admin/blog/article/1/change")
        data = form_of(page)
        data.update({"comments-0-author": "Ann", "comments-0-text": "kept", "title": "Again"})
        saved = client.post("/admin/blog/article/1/change", data=data)
        assert saved.status_code == 303, saved.text
        data = form_of(client.get("/admin/blog/article/1/change"))
        data.update({"comments-0-author": "Ann", "comments-0-text": "edited"})
        refused = client.post("/admin/blog/article/1/change", data=data)
        assert refused.status_code == 422
        assert "You may not change comments." in refused.text
    assert comments(db) == [("Ann", "kept", False)]


def test_save_as_new_copies_the_rows_and_links_of_the_inlines(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article/1/change")
        data = form_of(page)
        data.update({"comments-0-author": "Ann", "comments-1-author": "Bob", "tags-0-id": "1"})
        assert client.post("/admin/blog/article/1/change", data=data).status_code == 303

        page = client.get("/admin/blog/article/1/change")
        data = form_of(page)
        data.update(
            {
                "title": "Copy of post",
                "_saveasnew": "1",
                "comments-1-DELETE": "on",  # Bob's comment is not copied
                "tags-1-id": "3",  # and the copy gets one more tag
            }
        )
        answer = client.post("/admin/blog/article/1/change", data=data)
        assert answer.status_code == 303, answer.text
        copy_id = rows(db, select(Article.id).where(Article.title == "Copy of post"))[0][0]
        copied = rows(
            db,
            select(ArticleComment.author)
            .where(ArticleComment.article_id == copy_id)
            .order_by(ArticleComment.id),
        )
        assert [row[0] for row in copied] == ["Ann"]
        tags = rows(
            db,
            select(ArticleTag.name)
            .join(article_tags)
            .where(article_tags.c.article_id == copy_id)
            .order_by(ArticleTag.name),
        )
        assert [row[0] for row in tags] == ["blue", "red"]
        # The original keeps its own rows and links.
        assert [author for author, _, _ in comments(db)] == ["Ann", "Bob"]
        assert linked(db) == ["red"]
