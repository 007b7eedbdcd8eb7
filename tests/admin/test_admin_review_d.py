"""Fixes from a review: the change list's state kept through the object pages
(`_changelist_filters`), refused `list_editable` cells redrawn as typed, and concurrent
edits of inline rows refused with 409.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit

import anyio
import pytest
from sqlalchemy import select
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import Article
from tests.admin.adminapp import ArticleAdmin
from tests.admin.adminapp import ArticleComment
from tests.admin.adminapp import ArticleTag
from tests.admin.adminapp import Coupon
from tests.admin.adminapp import Writer
from tests.admin.adminapp import WriterAdmin
from tests.admin.adminapp import article_tags
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import log_in
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium import App
from trivium.admin import Admin
from trivium.admin import ModelAdmin
from trivium.audit import Audit
from trivium.auth import Auth
from trivium.db import Database
from trivium.stores import MemoryStore
from trivium.testing import TestClient


class CouponAdmin(ModelAdmin):
    list_display = ("id", "code", "amount")
    list_editable = ("code",)
    ordering = ("id",)
    list_per_page = 1


async def _extras(db: Database) -> None:
    db = twin(db)
    async with db.sessionmaker() as session:
        session.add_all([ArticleTag(name=name) for name in ("red", "green")])
        session.add_all([Coupon(code="AAA"), Coupon(code="BBB")])
        await session.commit()
    await db.dispose()


@contextlib.contextmanager
def client_as(db: Database, *, articles: int = 12, audited: bool = False) -> Iterator[TestClient]:
    """A superuser's client of an app with articles (and their inlines), writers, coupons."""
    anyio.run(seed, db, articles)
    anyio.run(_extras, db)
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    admin = Admin(db, auth)
    admin.register(Article, ArticleAdmin)
    admin.register(Writer, WriterAdmin)
    admin.register(Coupon, CouponAdmin)
    plugins: list[Any] = [db, auth, admin]
    if audited:
        plugins.append(Audit(db, models=[Article]))
    with TestClient(App(plugins=plugins), follow_redirects=False) as client:
        log_in(client, "root@example.com")
        yield client


async def _rows(db: Database, statement: Any) -> list[Any]:
    db = twin(db)
    async with db.sessionmaker() as session:
        found = list((await session.execute(statement)).all())
    await db.dispose()
    return found


def rows(db: Database, statement: Any) -> list[Any]:
    return anyio.run(_rows, db, statement)


def scalar(db: Database, statement: Any) -> Any:
    found = rows(db, statement)
    return found[0][0] if found else None


def comments(db: Database) -> list[tuple[str, str, bool]]:
    query = select(ArticleComment.author, ArticleComment.text, ArticleComment.approved)
    found = rows(db, query.where(ArticleComment.article_id == 1).order_by(ArticleComment.id))
    return [tuple(row) for row in found]


def linked(db: Database) -> list[str]:
    query = select(ArticleTag.name).join(article_tags).where(article_tags.c.article_id == 1)
    return sorted(row[0] for row in rows(db, query))


def form_of(page: Any) -> dict[str, Any]:
    """The change form's fields as a browser posts them with "Save" (unticked boxes left out)."""
    fields: dict[str, Any] = {}
    text = re.sub(r"<template.*?</template>", "", page.text, flags=re.S)  # rows for the script
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", text):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', text, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        fields[name] = html.unescape(chosen.group(1)) if chosen else ""
    return fields


HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
STATE = "q=Post&o=title&published__exact=1&p=2"
"""Searched, sorted, filtered and on page 2: six published posts, five a page."""
LIST = f"/admin/blog/article?{STATE}"
CARRIED = "_changelist_filters=" + quote(STATE, safe="")
CHANGE = "/admin/blog/article/1/change"


def links(page: Any, pattern: str) -> list[str]:
    """The unescaped `href`s and `action`s of the page matching `pattern`."""
    found = re.findall(r'(?:href|action)="([^"]*)"', page.text)
    return [html.unescape(url) for url in found if re.search(pattern, html.unescape(url))]


def carried_state(url: str) -> dict[str, list[str]]:
    """The change list state a URL carries, parsed."""
    (raw,) = parse_qs(urlsplit(url).query)["_changelist_filters"]
    return parse_qs(raw)


def tag_of(page: Any) -> str:
    found = re.search(r'name="_etag" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return html.unescape(found.group(1))


# The change list's state kept through the object pages ----------------------------------


def test_row_links_carry_the_lists_state_and_a_save_goes_back_to_it(db: Database) -> None:
    with client_as(db) as client:
        listing = client.get(LIST)
        assert listing.status_code == 200
        (row,) = links(listing, r"/article/\d+/change")  # page 2 holds one row: Post 10
        assert carried_state(row) == parse_qs(STATE)
        (add,) = links(listing, r"/article/add")
        assert carried_state(add) == parse_qs(STATE)
        page = client.get(row)
        assert LIST in links(page, r"^/admin/blog/article\?")  # the breadcrumb
        assert all(CARRIED in url for url in links(page, r"/(delete|history)"))
        data = {**form_of(page), "title": "Post 10 edited", "csrf_token": csrf_of(page)}
        saved = client.post(row, data=data)
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == LIST
        assert "Post 10 edited" in client.get(saved.headers["location"]).text


def test_save_and_continue_and_save_and_add_another_keep_the_lists_state(
    db: Database,
) -> None:
    with client_as(db) as client:
        change = f"/admin/blog/article/11/change?{CARRIED}"
        page = client.get(change)
        data = {**form_of(page), "csrf_token": csrf_of(page)}
        kept = client.post(change, data={**data, "_continue": "1"})
        assert kept.headers["location"] == change
        page = client.get(change)
        data = {**form_of(page), "csrf_token": csrf_of(page)}
        another = client.post(change, data={**data, "_addanother": "1"})
        assert another.headers["location"] == f"/admin/blog/article/add?{CARRIED}"
        adding = client.get(another.headers["location"])
        assert LIST in links(adding, r"^/admin/blog/article\?")
        fields = {"title": "Post 99", "status": "draft", "csrf_token": csrf_of(adding)}
        added = client.post(another.headers["location"], data=fields)
        assert added.headers["location"] == LIST


def test_a_page_number_past_the_end_carries_the_page_shown(db: Database) -> None:
    with client_as(db) as client:
        listing = client.get("/admin/blog/article?o=title&p=999")
        assert "showing page 3" in listing.text
        row_links = links(listing, r"/article/\d+/change")
        assert len(row_links) == 2  # twelve posts, five a page
        assert all(carried_state(url) == {"o": ["title"], "p": ["3"]} for url in row_links)


def test_a_deletion_goes_back_to_the_list_as_it_was(db: Database) -> None:
    with client_as(db) as client:
        confirm = client.get(f"/admin/blog/article/11/delete?{CARRIED}")
        assert f"/admin/blog/article/11/delete?{CARRIED}" in links(confirm, r"/delete")
        assert LIST in links(confirm, r"^/admin/blog/article\?")  # crumbs, "take me back"
        gone = client.post(
            f"/admin/blog/article/11/delete?{CARRIED}", data={"csrf_token": csrf_of(confirm)}
        )
        assert gone.status_code == 303
        assert gone.headers["location"] == LIST


def test_a_missing_object_sends_a_browser_back_to_the_list_as_it_was(db: Database) -> None:
    with client_as(db) as client:
        answer = client.get(f"/admin/blog/article/999/change?{CARRIED}", headers=HTML)
        assert answer.status_code == 303
        assert answer.headers["location"] == LIST


def test_history_and_revert_keep_the_lists_state(db: Database) -> None:
    with client_as(db, articles=3, audited=True) as client:
        page = client.get(CHANGE)
        assert client.post(CHANGE, data={**form_of(page), "title": "Renamed"}).status_code == 303
        history = client.get(f"/admin/blog/article/1/history?{CARRIED}")
        assert LIST in links(history, r"^/admin/blog/article\?")
        assert f"/admin/blog/article/1/change?{CARRIED}" in links(history, r"/change")
        (revert, *_) = links(history, r"/revert")
        assert revert.endswith(f"/revert?{CARRIED}")
        answer = client.post(revert, data={"csrf_token": csrf_of(history)})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/admin/blog/article/1/change?{CARRIED}"


@pytest.mark.parametrize(
    "forged",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "a=1\r\nSet-Cookie: x=1",
        "a=1#frag",
        "@evil.example",
    ],
)
def test_a_forged_changelist_filters_only_leads_back_to_the_list(db: Database, forged: str) -> None:
    with client_as(db) as client:
        change = f"/admin/blog/article/11/change?_changelist_filters={quote(forged, safe='')}"
        page = client.get(change)
        data = {**form_of(page), "csrf_token": csrf_of(page)}
        saved = client.post(change, data=data)
        assert saved.status_code == 303, saved.text
        target = urlsplit(saved.headers["location"])
        assert (target.scheme, target.netloc, target.path) == ("", "", "/admin/blog/article")
        assert target.fragment == ""
        assert "\r" not in saved.headers["location"]
        assert "\n" not in saved.headers["location"]


# Refused list_editable cells redrawn as typed -------------------------------------------


def editable_input(page: str, name: str) -> str:
    found = re.search(rf'<input type="text" name="{name}"[^>]*>(.*?)</td>', page, re.S)
    assert found is not None, page
    return found.group(0)


def test_an_invalid_editable_value_is_redrawn_as_typed_beside_its_error(db: Database) -> None:
    with client_as(db) as client:
        page = client.get("/admin/blog/writer")
        data = {
            "_save": "1",
            "_pk": ["1", "2"],
            "form-1-email": "new@example.org",
            "form-2-email": "x" * 300,
            "csrf_token": csrf_of(page),
        }
        answer = client.post("/admin/blog/writer", data=data)
        assert answer.status_code == 303
        shown = client.get(answer.headers["location"]).text
        refused = editable_input(shown, "form-2-email")
        assert 'value="' + "x" * 300 + '"' in refused
        assert 'aria-invalid="true"' in refused
        assert 'class="errorlist"' in refused  # the message beside the cell
        assert 'value="new@example.org"' in editable_input(shown, "form-1-email")  # saved
        assert scalar(db, select(Writer.email).where(Writer.id == 2)) == "o@example.org"
        assert scalar(db, select(Writer.email).where(Writer.id == 1)) == "new@example.org"
        again = client.get("/admin/blog/writer").text  # redrawn once, then the stored value
        assert 'value="o@example.org"' in editable_input(again, "form-2-email")


def test_an_editable_value_the_database_refuses_is_redrawn_with_its_error(db: Database) -> None:
    with client_as(db, articles=1) as client:
        page = client.get("/admin/shop/coupon")
        assert 'name="form-1-code" value="AAA"' in page.text  # one coupon a page
        data = {"_save": "1", "_pk": "1", "form-1-code": "BBB", "csrf_token": csrf_of(page)}
        answer = client.post("/admin/shop/coupon", data=data)
        assert answer.status_code == 303
        shown = client.get(answer.headers["location"]).text
        refused = editable_input(shown, "form-1-code")
        assert 'value="BBB"' in refused
        assert "A coupon with this code already exists." in refused
        assert "Row 1 was not saved" in shown


# Concurrent edits through inlines --------------------------------------------------------


def _with_a_comment(client: TestClient) -> None:
    page = client.get(CHANGE)
    data = {**form_of(page), "comments-0-author": "Ann", "comments-0-text": "first"}
    assert client.post(CHANGE, data=data).status_code == 303


def test_two_edits_of_the_same_inline_row_do_not_overwrite_each_other(db: Database) -> None:
    with client_as(db, articles=3) as client:
        _with_a_comment(client)
        mine = form_of(client.get(CHANGE))
        theirs = form_of(client.get(CHANGE))
        saved = client.post(CHANGE, data={**mine, "comments-0-text": "mine"})
        assert saved.status_code == 303, saved.text
        late = client.post(CHANGE, data={**theirs, "comments-0-text": "theirs"})
        assert late.status_code == 409
        assert "Someone else changed this article" in late.text
        assert 'value="mine"' in late.text  # the page shows the current version
        assert comments(db) == [("Ann", "mine", False)]


def test_an_inline_row_added_meanwhile_refuses_a_stale_save(db: Database) -> None:
    with client_as(db, articles=3) as client:
        mine = form_of(client.get(CHANGE))
        theirs = form_of(client.get(CHANGE))
        added = client.post(CHANGE, data={**mine, "comments-0-author": "Ann"})
        assert added.status_code == 303
        late = client.post(CHANGE, data={**theirs, "title": "Stale"})
        assert late.status_code == 409
        assert scalar(db, select(Article.title).where(Article.id == 1)) == "Post 00"
        assert comments(db) == [("Ann", "", False)]


def test_an_inline_row_deleted_meanwhile_refuses_a_stale_save(db: Database) -> None:
    with client_as(db, articles=3) as client:
        _with_a_comment(client)
        mine = form_of(client.get(CHANGE))
        theirs = form_of(client.get(CHANGE))
        deleted = client.post(CHANGE, data={**mine, "comments-0-DELETE": "on"})
        assert deleted.status_code == 303
        late = client.post(CHANGE, data={**theirs, "title": "Stale"})
        assert late.status_code == 409
        assert scalar(db, select(Article.title).where(Article.id == 1)) == "Post 00"
        count = select(ArticleComment.id).where(ArticleComment.article_id == 1)
        assert scalar(db, count) is None


def test_a_link_made_meanwhile_refuses_a_stale_save(db: Database) -> None:
    with client_as(db, articles=3) as client:
        mine = form_of(client.get(CHANGE))
        theirs = form_of(client.get(CHANGE))
        assert client.post(CHANGE, data={**mine, "tags-0-id": "1"}).status_code == 303
        late = client.post(CHANGE, data={**theirs, "tags-0-id": "2"})
        assert late.status_code == 409
        assert linked(db) == ["red"]
        fresh = form_of(late)  # the conflict page carries the current tag: saving works
        assert tag_of(late) == fresh["_etag"]
        assert client.post(CHANGE, data={**fresh, "tags-1-id": "2"}).status_code == 303
        assert linked(db) == ["green", "red"]
