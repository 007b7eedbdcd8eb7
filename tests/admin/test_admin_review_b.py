"""Fixes from a review: round-trips of JSON, binary and nullable booleans, refused deletions,
inline `can_delete`, users' identities, unique values, cursors and one's own password.
"""

from __future__ import annotations

import base64
import contextlib
import html
import re
from collections.abc import Iterator
from typing import Any

import anyio
import orjson
import pytest
from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import Article
from tests.admin.adminapp import ArticleAdmin
from tests.admin.adminapp import CommentInline
from tests.admin.adminapp import Coupon
from tests.admin.adminapp import Writer
from tests.admin.adminapp import WriterAdmin
from tests.admin.adminapp import WriterNote
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
from trivium.auth import User
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.stores import MemoryStore
from trivium.testing import TestClient


class Gadget(IntPK, Model):
    """A JSON, a binary and a nullable boolean column."""

    __tablename__ = "reviewb_gadget"
    __app_label__ = "iot"
    name: Mapped[str] = mapped_column(String(50))
    settings: Mapped[Any] = mapped_column(JSON, nullable=True)
    blob: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    verified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    parts: Mapped[list[Part]] = relationship(lambda: Part, passive_deletes=True)


class Part(IntPK, Model):
    """A row of two unique columns."""

    __tablename__ = "reviewb_part"
    __app_label__ = "iot"
    sku: Mapped[str] = mapped_column(String(20), unique=True)
    ean: Mapped[str] = mapped_column(String(20), unique=True)
    gadget_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviewb_gadget.id", ondelete="CASCADE")
    )
    checked: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    extra: Mapped[Any] = mapped_column(JSON, nullable=True)


GADGET = {"settings": {"a": [1, 2], "b": "x"}, "blob": b"\x00\xffbin", "verified": None}


class CouponAdmin(ModelAdmin):
    list_display = ("id", "code", "amount")
    list_editable = ("code",)
    ordering = ("amount",)
    list_per_page = 1


class PartInline(TabularInline):
    relation = "parts"
    fields = ("sku", "ean", "checked", "extra")
    extra = 0


class GadgetAdmin(ModelAdmin):
    inlines = (PartInline,)


class LockedCommentInline(CommentInline):
    can_delete = False


class LockedArticleAdmin(ArticleAdmin):
    inlines = (LockedCommentInline,)


def build(db: Database, *registrations: tuple[type[Any], type[ModelAdmin] | None]) -> App:
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore(), login_throttle=None)
    admin = Admin(db, auth)
    for model, options in registrations:
        admin.register(model, options or ModelAdmin)
    return App(plugins=[db, auth, admin])


@contextlib.contextmanager
def client_of(
    db: Database,
    *registrations: tuple[type[Any], type[ModelAdmin] | None],
    email: str = "root@example.com",
    perms: tuple[str, ...] = (),
) -> Iterator[TestClient]:
    anyio.run(seed, db, 3)
    if perms:
        anyio.run(grant, db, email, *perms)
    with TestClient(build(db, *registrations), follow_redirects=False) as client:
        log_in(client, email)
        yield client


async def _run(db: Database, work: Any) -> Any:
    db = twin(db)
    async with db.sessionmaker() as session:
        result = await work(session)
        await session.commit()
    await db.dispose()
    return result


def run(db: Database, work: Any) -> Any:
    return anyio.run(_run, db, work)


def count(db: Database, model: type[Any], *where: Any) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))

    return int(run(db, work))


def add_rows(db: Database, *rows: Any) -> None:
    async def work(session: Any) -> None:
        session.add_all(rows)

    run(db, work)


def form_fields(page: str) -> dict[str, str]:
    """What a browser submits for the form as drawn (inputs, selects and textareas)."""
    found: dict[str, str] = {}
    for match in re.finditer(r"<input([^>]*)>", page):
        attrs = match.group(1)
        name = re.search(r'name="([^"]+)"', attrs)
        unticked = 'type="checkbox"' in attrs and "checked" not in attrs
        if name is None or 'type="submit"' in attrs or unticked:
            continue
        value = re.search(r'value="([^"]*)"', attrs)
        found[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for match in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', match.group(2))
        found[match.group(1)] = html.unescape(chosen.group(1)) if chosen else ""
    for match in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        found[match.group(1)] = html.unescape(match.group(2)).removeprefix("\n")
    return found


def gadget_values(db: Database) -> dict[str, Any]:
    async def work(session: Any) -> dict[str, Any]:
        gadget = await session.get(Gadget, 1)
        return {name: getattr(gadget, name) for name in GADGET}

    return dict(run(db, work))


# JSON, binary and nullable booleans ------------------------------------------------------


def test_an_untouched_save_keeps_json_binary_and_unknown_booleans(db: Database) -> None:
    with client_of(db, (Gadget, None)) as client:
        add_rows(db, Gadget(name="g", **GADGET))
        page = client.get("/admin/iot/gadget/1/change")
        assert "2 bytes" not in page.text
        assert "5 bytes" in page.text
        answer = client.post("/admin/iot/gadget/1/change", data=form_fields(page.text))
        assert answer.status_code == 303, answer.text
    assert gadget_values(db) == GADGET


def test_json_is_edited_as_json_text_and_a_nullable_boolean_as_three_choices(
    db: Database,
) -> None:
    with client_of(db, (Gadget, None)) as client:
        add_rows(db, Gadget(name="g", **GADGET))
        page = client.get("/admin/iot/gadget/1/change")
        assert re.search(r'<option value="True"[^>]*>Yes</option>', page.text)
        assert re.search(r'<option value="">---------</option>', page.text)
        data = {**form_fields(page.text), "settings": '{"c": null}', "verified": "False"}
        answer = client.post("/admin/iot/gadget/1/change", data=data)
        assert answer.status_code == 303, answer.text
    assert gadget_values(db) == {**GADGET, "settings": {"c": None}, "verified": False}


def test_an_inline_row_keeps_its_json_and_unknown_boolean(db: Database) -> None:
    with client_of(db, (Gadget, GadgetAdmin), (Part, None)) as client:
        add_rows(db, Gadget(name="g", **GADGET))
        add_rows(db, Part(sku="A1", ean="111", gadget_id=1, extra={"k": [1]}))
        page = client.get("/admin/iot/gadget/1/change")
        assert 'name="parts-0-checked"' in page.text
        answer = client.post("/admin/iot/gadget/1/change", data=form_fields(page.text))
        assert answer.status_code == 303, answer.text

    async def work(session: Any) -> Any:
        part = await session.get(Part, 1)
        return part.checked, part.extra

    assert run(db, work) == (None, {"k": [1]})


def test_invalid_json_is_refused_beside_its_field(db: Database) -> None:
    with client_of(db, (Gadget, None)) as client:
        add_rows(db, Gadget(name="g", **GADGET))
        page = client.get("/admin/iot/gadget/1/change")
        for text in ("{'a': 1}", "NaN", "[1e999999]"):
            data = {**form_fields(page.text), "settings": text}
            answer = client.post("/admin/iot/gadget/1/change", data=data)
            assert answer.status_code == 422, text
            assert re.search(r'<textarea[^>]*name="settings"[^>]*aria-invalid="true"', answer.text)
            assert "Enter valid JSON" in answer.text
    assert gadget_values(db) == GADGET


# Deleting ---------------------------------------------------------------------------------


def bulk_delete(client: TestClient, url: str, keys: list[str]) -> Any:
    page = client.get(url)
    data = {"action": "delete_selected", "_selected": keys, "post": "yes"}
    return client.post(url, data={**data, "csrf_token": csrf_of(page)})


def test_delete_selected_is_refused_when_a_row_protects_an_object(db: Database) -> None:
    with client_of(db, (Writer, WriterAdmin), (Article, ArticleAdmin)) as client:
        add_rows(db, WriterNote(writer_id=1, text="keeps Ursula"))
        answer = bulk_delete(client, "/admin/blog/writer", ["1", "2"])
        assert answer.status_code == 409
        assert "protected" in answer.text
        assert "keeps Ursula" in answer.text
    assert count(db, Writer) == 2
    assert count(db, WriterNote) == 1


def test_deleting_is_refused_when_cascaded_objects_may_not_be_deleted(db: Database) -> None:
    perms = ("blog.view_writer", "blog.delete_writer", "blog.view_article")
    registrations = ((Writer, WriterAdmin), (Article, ArticleAdmin))
    with client_of(db, *registrations, email="staff@example.com", perms=perms) as client:
        page = client.get("/admin/blog/writer/1/delete")
        assert "permission to delete the following types of objects" in page.text
        assert "Yes, I’m sure" not in page.text
        answer = client.post("/admin/blog/writer/1/delete", data={"csrf_token": csrf_of(page)})
        assert answer.status_code == 403
        assert bulk_delete(client, "/admin/blog/writer", ["1", "2"]).status_code == 403
    assert count(db, Writer) == 2
    assert count(db, Article) == 3


def test_an_inline_without_can_delete_ignores_a_posted_delete_box(db: Database) -> None:
    with client_of(db, (Article, LockedArticleAdmin), (Writer, WriterAdmin)) as client:
        add_rows(db, Article(title="Mine"))
        run(db, _add_comment)
        page = client.get("/admin/blog/article/4/change")
        assert "-DELETE" not in page.text
        data = {**form_fields(page.text), "comments-0-DELETE": "on"}
        answer = client.post("/admin/blog/article/4/change", data=data)
        assert answer.status_code == 303, answer.text
    from tests.admin.adminapp import ArticleComment

    assert count(db, ArticleComment) == 1


async def _add_comment(session: Any) -> None:
    from tests.admin.adminapp import ArticleComment

    session.add(ArticleComment(article_id=4, author="keep me"))


# Users --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"username": "\ufb00" * 100}, "username", "at most 150 characters once normalised"),
        ({}, "email", "an email address or a user name"),
        ({"username": "   "}, "username", "an email address or a user name"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"username": "ada\u202ebob"}, "username", "invisible formatting"),
    ],
)
def test_a_user_identity_breaking_the_rules_is_refused_beside_its_field(
    db: Database, fields: dict[str, str], field: str, message: str
) -> None:
    with client_of(db, (User, None)) as client:
        page = client.get("/admin/trivium/user/add")
        data = {"csrf_token": csrf_of(page), "password": "another long passphrase 1", **fields}
        answer = client.post("/admin/trivium/user/add", data=data)
        assert answer.status_code == 422
        assert re.search(rf'<input[^>]*name="{field}"[^>]*aria-invalid="true"', answer.text)
        assert html.escape(message, quote=False) in answer.text
        changed = client.post(
            "/admin/trivium/user/2/change",
            data={**form_fields(client.get("/admin/trivium/user/2/change").text), **fields},
        )
        if fields:
            assert changed.status_code == 422
    assert count(db, User) == 3


def test_setting_ones_own_password_keeps_one_logged_in(db: Database) -> None:
    with client_of(db, (User, None)) as client:
        page = client.get("/admin/trivium/user/1/change")
        data = {**form_fields(page.text), "password": "a brand new long passphrase"}
        answer = client.post("/admin/trivium/user/1/change", data=data)
        assert answer.status_code == 303, answer.text
        assert client.get("/admin/trivium/user").status_code == 200


# Unique values, list_editable and cursors -----------------------------------------------


def test_a_taken_unique_value_is_marked_on_its_field(db: Database) -> None:
    with client_of(db, (Part, None), (Gadget, None)) as client:
        add_rows(db, Part(sku="A1", ean="111"))
        page = client.get("/admin/iot/part/add")
        data = {**form_fields(page.text), "sku": "B2", "ean": "111"}
        answer = client.post("/admin/iot/part/add", data=data)
        assert answer.status_code == 422
        assert re.search(r'<input[^>]*name="ean"[^>]*aria-invalid="true"', answer.text)
        assert not re.search(r'<input[^>]*name="sku"[^>]*aria-invalid="true"', answer.text)
        assert "A part with this ean already exists." in answer.text
    assert count(db, Part) == 1


def test_list_editable_with_a_taken_unique_value_says_so_on_the_row(db: Database) -> None:
    with client_of(db, (Coupon, CouponAdmin)) as client:
        add_rows(db, Coupon(code="AAA"), Coupon(code="BBB"))
        page = client.get("/admin/shop/coupon")
        data = {"_save": "1", "_pk": "2", "form-2-code": "AAA", "csrf_token": csrf_of(page)}
        answer = client.post("/admin/shop/coupon", data=data)
        assert answer.status_code == 303
        shown = client.get(answer.headers["location"]).text
        assert "Row 2 was not saved" in shown
        assert "unique" in shown
    assert count(db, Coupon, Coupon.code == "AAA") == 1


def cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


@pytest.mark.parametrize("amount", ["1000000.00", "1e999999", "Infinity", "0.001"])
def test_a_forged_cursor_a_numeric_column_cannot_hold_is_ignored(db: Database, amount: str) -> None:
    with client_of(db, (Coupon, CouponAdmin)) as client:
        answer = client.get(f"/admin/shop/coupon?o=amount&after={cursor(amount, 1)}")
        assert answer.status_code == 200
        assert "Ignored the page cursor" in answer.text


# PostgreSQL ARRAY columns ------------------------------------------------------------------


class _Base(DeclarativeBase):
    """Apart from `Model.metadata`: the other backends cannot create an ARRAY column."""


class Tagged(_Base):
    __tablename__ = "reviewb_tagged"
    __app_label__ = "news"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    keywords: Mapped[list[str] | None] = mapped_column(ARRAY(String(20)), nullable=True)


async def _create_tagged(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
        await connection.execute(
            Tagged.__table__.insert().values(id=1, title="a", keywords=["x", "y"])
        )
    await db.dispose()


def test_an_array_column_is_shown_read_only(db: Database) -> None:
    if db.url.get_backend_name() != "postgresql":
        pytest.skip("ARRAY columns are PostgreSQL's")
    anyio.run(_create_tagged, db)
    with client_of(db, (Tagged, None)) as client:
        assert client.get("/admin/news/tagged/add").status_code == 200
        page = client.get("/admin/news/tagged/1/change")
        assert page.status_code == 200
        assert 'name="keywords"' not in page.text
        assert "x, y" in page.text
        data = {**form_fields(page.text), "title": "b"}
        assert client.post("/admin/news/tagged/1/change", data=data).status_code == 303

    async def work(session: Any) -> Any:
        return (await session.get(Tagged, 1)).keywords

    assert run(db, work) == ["x", "y"]
