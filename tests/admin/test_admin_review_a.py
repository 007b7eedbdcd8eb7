"""Admin review fixes: session-only access, root paths, quoted keys, big forms, what is shown.

Every test drives the admin over HTTP on each configured database.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import Article
from tests.admin.adminapp import ArticleAdmin
from tests.admin.adminapp import Writer
from tests.admin.adminapp import WriterAdmin
from tests.admin.adminapp import grant
from tests.admin.adminapp import log_in
from tests.admin.adminapp import make_app
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium import App
from trivium.admin import Admin
from trivium.admin import ModelAdmin
from trivium.admin import TabularInline
from trivium.audit import Audit
from trivium.auth import Auth
from trivium.auth import JWTConfig
from trivium.auth import User
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.stores import MemoryStore
from trivium.testing import TestClient

ODD_KEYS = ["EU/DE", "what?", "..", "%2F", "50%", "a~b", "x y", "back\\slash", "plain"]


class ReviewRegion(Model):
    """A model keyed by text that needs quoting in a URL."""

    __tablename__ = "adminreview_region"
    __app_label__ = "geo"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))

    def __str__(self) -> str:
        return self.code


class ReviewOrder(IntPK, Model):
    __tablename__ = "adminreview_order"
    __app_label__ = "shop"
    name: Mapped[str] = mapped_column(String(50))
    lines: Mapped[list[ReviewLine]] = relationship(lambda: ReviewLine, passive_deletes=True)


class ReviewLine(IntPK, Model):
    __tablename__ = "adminreview_line"
    __app_label__ = "shop"
    order_id: Mapped[int] = mapped_column(ForeignKey("adminreview_order.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(20))
    qty: Mapped[int] = mapped_column(default=1)
    note: Mapped[str] = mapped_column(String(50), default="")
    colour: Mapped[str] = mapped_column(String(20), default="")


class LineInline(TabularInline):
    relation = "lines"
    fields = ("sku", "qty", "note", "colour")
    extra = 0


class OrderAdmin(ModelAdmin):
    inlines = (LineInline,)


@contextlib.contextmanager
def client_as(
    db: Database, email: str | None, *perms: str, root_path: str = ""
) -> Iterator[TestClient]:
    anyio.run(seed, db, 3)
    if perms:
        anyio.run(grant, db, email, *perms)
    app, _, _ = make_app(db)
    with TestClient(app, follow_redirects=False, root_path=root_path) as client:
        if email is not None:
            log_in(client, email)
        yield client


def posted_form(page: str) -> dict[str, list[str]]:
    """The fields a browser posts from a change page (inline row templates left out)."""
    body = page.split("<template", 1)[0]
    data: dict[str, list[str]] = {}
    for match in re.finditer(r"<input([^>]*)>", body):
        attributes = match.group(1)
        name = re.search(r'name="([^"]+)"', attributes)
        if name is None or 'type="submit"' in attributes:
            continue
        if 'type="checkbox"' in attributes and "checked" not in attributes:
            continue
        value = re.search(r'value="([^"]*)"', attributes)
        data.setdefault(name.group(1), []).append(html.unescape(value.group(1)) if value else "")
    return data


async def _titles(db: Database) -> list[str]:
    db = twin(db)
    async with db.sessionmaker() as session:
        found = list(await session.scalars(select(Article.title).order_by(Article.id)))
    await db.dispose()
    return found


async def _api_key(db: Database, auth: Auth) -> str:
    async with db.sessionmaker() as session:
        user = (await session.scalars(select(User).where(User.email == "root@example.com"))).one()
        _, key = await auth.create_token(session, user, "read-only", scopes=["items:read"])
        await session.commit()
    await db.dispose()
    return str(key)


# An API token or a JWT is not a login to the admin ------------------------------------


def test_an_api_token_is_sent_to_the_login_page(db: Database) -> None:
    anyio.run(seed, db, 3)
    app, auth, _ = make_app(db)
    key = anyio.run(_api_key, db, auth)
    with TestClient(app, follow_redirects=False) as client:
        headers = {"Authorization": f"Token {key}"}
        for path in ("/admin", "/admin/blog/article", "/admin/blog/article/1/change"):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/admin/accounts/login?next=")


def test_an_api_token_changes_and_deletes_nothing(db: Database) -> None:
    anyio.run(seed, db, 3)
    app, auth, _ = make_app(db)
    key = anyio.run(_api_key, db, auth)
    with TestClient(app, follow_redirects=False) as client:
        headers = {"Authorization": f"Token {key}"}
        changed = client.post(
            "/admin/blog/article/1/change",
            headers=headers,
            data={"title": "written by a token", "status": "draft", "_save": "1"},
        )
        deleted = client.post(
            "/admin/blog/article",
            headers=headers,
            data={"action": "delete_selected", "_selected": ["1", "2"], "post": "yes"},
        )
    assert changed.status_code == deleted.status_code == 303
    assert changed.headers["location"].startswith("/admin/accounts/login")
    assert anyio.run(_titles, db) == ["Post 00", "Post 01", "Post 02"]


def test_a_token_beside_a_session_cookie_is_not_a_login_either(db: Database) -> None:
    anyio.run(seed, db, 3)
    app, auth, _ = make_app(db)
    key = anyio.run(_api_key, db, auth)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, "root@example.com")
        assert client.get("/admin").status_code == 200
        answer = client.get("/admin", headers={"Authorization": f"Token {key}"})
        assert answer.status_code == 303


def test_a_jwt_without_scopes_is_not_a_login_to_the_admin(db: Database) -> None:
    anyio.run(seed, db, 3)
    jwt = JWTConfig(keys={"k1": "j" * 48})
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore(), jwt=jwt)
    admin = Admin(db, auth)
    admin.register(Writer, WriterAdmin)
    with TestClient(App(plugins=[db, auth, admin]), follow_redirects=False) as client:
        pair = client.post(
            "/auth/token",
            data={"username": "root@example.com", "password": "correct horse battery staple"},
        )
        assert pair.status_code == 200, pair.text
        headers = {"Authorization": f"Bearer {pair.json()['access_token']}"}
        assert client.get("/auth/me", headers=headers).status_code == 200  # a valid JWT
        answer = client.get("/admin/blog/writer", headers=headers)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/admin/accounts/login")


# root_path ------------------------------------------------------------------------------


def _local_links(text: str) -> list[str]:
    return sorted(set(re.findall(r'(?:href|action|src)="(/[^"]*)"', text)))


@pytest.mark.asgi_only("RSGI has no root_path")
def test_the_admin_keeps_the_root_path_in_redirects_and_links(db: Database) -> None:
    with client_as(db, None, root_path="/p") as client:
        anonymous = client.get("/admin/blog/article")
        assert anonymous.headers["location"] == (
            "/p/admin/accounts/login?next=%2Fp%2Fadmin%2Fblog%2Farticle"
        )
        log_in(client, "root@example.com")
        for path in ("/admin", "/admin/blog/article", "/admin/blog/article/1/change"):
            links = _local_links(client.get(path).text)
            assert links, path
            assert [link for link in links if not link.startswith("/p/")] == [], path
        assert client.get("/admin/static/admin.css").status_code == 200


@pytest.mark.asgi_only("RSGI has no root_path")
def test_the_login_page_without_next_leads_to_the_admin_under_the_root_path(
    db: Database,
) -> None:
    anyio.run(seed, db, 3)
    app, _, _ = make_app(db)
    with TestClient(app, follow_redirects=False, root_path="/p") as client:
        page = client.get("/admin/accounts/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = client.post(
            "/admin/accounts/login",
            data={
                "identifier": "root@example.com",
                "password": "correct horse battery staple",
                "csrf_token": token.group(1),
            },
        )
        assert answer.headers["location"] == "/p/admin"


@pytest.mark.asgi_only("RSGI has no root_path")
def test_a_save_redirects_under_the_root_path(db: Database) -> None:
    with client_as(db, "root@example.com", root_path="/p") as client:
        page = client.get("/admin/blog/article/1/change")
        data = posted_form(page.text)
        data["title"] = ["Renamed"]
        answer = client.post("/admin/blog/article/1/change", data={**data, "_save": ["1"]})
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/p/admin/blog/article"


# Keys that need quoting -----------------------------------------------------------------


async def _regions(db: Database, keys: list[str]) -> None:
    db = twin(db)
    async with db.sessionmaker() as session:
        session.add_all([ReviewRegion(code=key, name=f"name of {key}") for key in keys])
        await session.commit()
    await db.dispose()


async def _region_names(db: Database) -> dict[str, str]:
    db = twin(db)
    async with db.sessionmaker() as session:
        found = {r.code: r.name for r in await session.scalars(select(ReviewRegion))}
    await db.dispose()
    return found


@contextlib.contextmanager
def regions_client(db: Database) -> Iterator[TestClient]:
    anyio.run(seed, db, 0)
    anyio.run(_regions, db, ODD_KEYS)
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    admin = Admin(db, auth)
    admin.register(ReviewRegion)
    with TestClient(App(plugins=[db, auth, admin]), follow_redirects=False) as client:
        log_in(client, "root@example.com")
        yield client


def _change_links(client: TestClient) -> dict[str, str]:
    listing = client.get("/admin/geo/reviewregion?o=code").text
    found = re.findall(
        r'<a href="(/admin/geo/reviewregion/[^"?]+/change)(?:\?[^"]*)?">([^<]*)</a>', listing
    )
    return {html.unescape(label): html.unescape(href) for href, label in found}


def test_objects_with_keys_that_need_quoting_open_from_the_list(db: Database) -> None:
    with regions_client(db) as client:
        links = _change_links(client)
        assert sorted(links) == sorted(ODD_KEYS)
        for key, href in links.items():
            page = client.get(href)
            assert page.status_code == 200, (key, href)
            assert html.escape(f"name of {key}") in page.text, key
            history = client.get(href.removesuffix("/change") + "/history")
            assert history.status_code == 200, key


def test_objects_with_keys_that_need_quoting_are_changed_and_deleted(db: Database) -> None:
    with regions_client(db) as client:
        links = _change_links(client)
        for key in ("EU/DE", "..", "%2F"):
            page = client.get(links[key])
            data = posted_form(page.text)
            data["name"] = [f"renamed {key}"]
            answer = client.post(links[key], data={**data, "_continue": ["1"]})
            assert answer.status_code == 303, (key, answer.text)
            assert answer.headers["location"] == links[key]
        delete = links["what?"].removesuffix("/change") + "/delete"
        confirm = client.get(delete)
        assert confirm.status_code == 200
        answer = client.post(delete, data=posted_form(confirm.text))
        assert answer.status_code == 303, answer.text
    names = anyio.run(_region_names, db)
    assert names["EU/DE"] == "renamed EU/DE"
    assert names[".."] == "renamed .."
    assert names["%2F"] == "renamed %2F"
    assert "what?" not in names


# Big forms ------------------------------------------------------------------------------


async def _big_order(db: Database, rows: int) -> None:
    db = twin(db)
    async with db.sessionmaker() as session:
        session.add(ReviewOrder(name="big", lines=[ReviewLine(sku=f"s{i}") for i in range(rows)]))
        await session.commit()
    await db.dispose()


@contextlib.contextmanager
def orders_client(db: Database, rows: int) -> Iterator[TestClient]:
    anyio.run(seed, db, 0)
    anyio.run(_big_order, db, rows)
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    admin = Admin(db, auth)
    admin.register(ReviewOrder, OrderAdmin)
    with TestClient(App(plugins=[db, auth, admin]), follow_redirects=False) as client:
        log_in(client, "root@example.com")
        yield client


async def _order_name(db: Database) -> Any:
    db = twin(db)
    async with db.sessionmaker() as session:
        name = await session.scalar(select(ReviewOrder.name))
    await db.dispose()
    return name


def test_a_change_page_with_200_inline_rows_is_saved(db: Database) -> None:
    with orders_client(db, 200) as client:
        page = client.get("/admin/shop/revieworder/1/change")
        data = posted_form(page.text)
        data["name"] = ["renamed"]
        data["_save"] = ["1"]
        assert sum(len(values) for values in data.values()) > 1000  # the default limit
        answer = client.post("/admin/shop/revieworder/1/change", data=data)
        assert answer.status_code == 303, answer.text
    assert anyio.run(_order_name, db) == "renamed"


def test_the_admin_still_refuses_far_more_fields_than_its_pages_send(db: Database) -> None:
    with orders_client(db, 1) as client:
        page = client.get("/admin/shop/revieworder/1/change")
        data = posted_form(page.text)
        data["junk"] = ["x"] * 50_000
        answer = client.post("/admin/shop/revieworder/1/change", data=data)
        assert answer.status_code == 400
        assert "Too many form fields" in answer.text


# What a user may see --------------------------------------------------------------------


async def _audited_secret(db: Database) -> None:
    db = twin(db)
    Audit(db, models=[Article])
    async with db.sessionmaker() as session:
        article = await session.get(Article, 1)
        assert article is not None
        article.secret_note = "CONFIDENTIAL-NOTE"
        article.title = "Visible title"
        await session.commit()
    await db.dispose()


@contextlib.contextmanager
def audited_client(db: Database, email: str, *perms: str) -> Iterator[TestClient]:
    anyio.run(seed, db, 3)
    anyio.run(_audited_secret, db)
    if perms:
        anyio.run(grant, db, email, *perms)
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    admin = Admin(db, auth)
    admin.register(Article, ArticleAdmin)
    admin.register(Writer, WriterAdmin)
    audit = Audit(db, models=[Article, Writer])
    with TestClient(App(plugins=[db, auth, admin, audit]), follow_redirects=False) as client:
        log_in(client, email)
        yield client


def test_history_leaves_out_fields_the_change_page_excludes(db: Database) -> None:
    with audited_client(db, "staff@example.com", "blog.view_article") as client:
        change = client.get("/admin/blog/article/1/change")
        assert change.status_code == 200
        assert "CONFIDENTIAL" not in change.text
        history = client.get("/admin/blog/article/1/history")
        assert history.status_code == 200
        assert "<ins>Visible title</ins>" in history.text
        assert "CONFIDENTIAL" not in history.text
        assert "secret_note" not in history.text


def test_the_audit_log_names_no_excluded_field(db: Database) -> None:
    perms = ("blog.view_article", "admin.view_auditlog")
    with audited_client(db, "staff@example.com", *perms) as client:
        log = client.get("/admin/audit")
        assert log.status_code == 200
        assert "<td>title</td>" in log.text  # the changed fields, by name
        assert "secret_note" not in log.text


def _offered_actions(text: str) -> list[str]:
    return re.findall(r'<option value="(\w+)">', text)


def test_a_view_only_user_gets_a_read_only_change_list(db: Database) -> None:
    with client_as(db, "staff@example.com", "blog.view_writer", "blog.view_article") as client:
        writers = client.get("/admin/blog/writer")
        assert writers.status_code == 200
        assert "u@example.org" in writers.text  # the list_editable column, as text
        assert 'name="form-' not in writers.text
        assert 'name="_save"' not in writers.text
        assert 'name="_selected"' not in writers.text
        assert _offered_actions(writers.text) == []
        articles = client.get("/admin/blog/article")
        assert _offered_actions(articles.text) == []


def test_only_the_actions_the_user_may_run_are_offered(db: Database) -> None:
    perms = ("blog.view_writer", "blog.change_writer", "blog.change_article")
    with client_as(db, "staff@example.com", *perms) as client:
        writers = client.get("/admin/blog/writer")
        assert 'name="form-' in writers.text  # may change: edited in place
        assert _offered_actions(writers.text) == []  # but not delete
        articles = client.get("/admin/blog/article")
        assert _offered_actions(articles.text) == ["publish"]
