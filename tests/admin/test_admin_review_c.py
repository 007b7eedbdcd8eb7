"""Fixes from a review: one "already exists" per unique column, the form layout, missing
objects in a browser, and the defaults and required columns of inline rows.
"""

from __future__ import annotations

import contextlib
import enum
import html
import re
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import Article
from tests.admin.adminapp import ArticleAdmin
from tests.admin.adminapp import Coupon
from tests.admin.adminapp import Writer
from tests.admin.adminapp import WriterAdmin
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import log_in
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium import App
from trivium.admin import Admin
from trivium.admin import ModelAdmin
from trivium.admin import TabularInline
from trivium.auth import Auth
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.errors import ConfigurationError
from trivium.stores import MemoryStore
from trivium.testing import TestClient

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


class Genre(enum.Enum):
    fiction = "fiction"
    poetry = "poetry"


class Shelf(IntPK, Model):
    __tablename__ = "reviewc_shelf"
    __app_label__ = "library"
    name: Mapped[str] = mapped_column(String(50))
    volumes: Mapped[list[Volume]] = relationship(lambda: Volume, passive_deletes=True)


class Volume(IntPK, Model):
    """A required title, an enum defaulting to `fiction` and a count defaulting to 0."""

    __tablename__ = "reviewc_volume"
    __app_label__ = "library"
    shelf_id: Mapped[int] = mapped_column(ForeignKey("reviewc_shelf.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(100))
    genre: Mapped[Genre] = mapped_column(
        Enum(Genre, native_enum=False, length=10), default=Genre.fiction
    )
    copies: Mapped[int] = mapped_column(default=0)


class VolumeInline(TabularInline):
    relation = "volumes"
    fields = ("title", "genre", "copies")
    extra = 1


class ShelfAdmin(ModelAdmin):
    inlines = (VolumeInline,)


def build(db: Database, *registrations: tuple[type[Any], type[ModelAdmin] | None]) -> App:
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore(), login_throttle=None)
    admin = Admin(db, auth)
    for model, options in registrations:
        admin.register(model, options or ModelAdmin)
    return App(plugins=[db, auth, admin])


@contextlib.contextmanager
def client_of(
    db: Database, *registrations: tuple[type[Any], type[ModelAdmin] | None]
) -> Iterator[TestClient]:
    anyio.run(seed, db, 3)
    with TestClient(build(db, *registrations), follow_redirects=False) as client:
        log_in(client, "root@example.com")
        yield client


def count(db: Database, model: type[Any]) -> int:
    async def work() -> int:
        other = twin(db)
        async with other.sessionmaker() as session:
            found = await session.scalar(select(func.count()).select_from(model))
        await other.dispose()
        return int(found or 0)

    return anyio.run(work)


def form_fields(page: str) -> dict[str, str]:
    """What a browser submits for the form as drawn (inputs and selects)."""
    found: dict[str, str] = {}
    for match in re.finditer(r"<input([^>]*)>", page):
        attrs = match.group(1)
        name = re.search(r'name="([^"]+)"', attrs)
        unticked = 'type="checkbox"' in attrs and "checked" not in attrs
        if name is None or 'type="submit"' in attrs or unticked or "__prefix__" in attrs:
            continue
        value = re.search(r'value="([^"]*)"', attrs)
        found[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for match in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        if "__prefix__" in match.group(1):
            continue
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', match.group(2))
        found[match.group(1)] = html.unescape(chosen.group(1)) if chosen else ""
    return found


# One error per unique column ----------------------------------------------------------


def test_a_taken_unique_column_shows_its_error_once(db: Database) -> None:
    with client_of(db, (Coupon, None)) as client:
        page = client.get("/admin/shop/coupon/add")
        data = {"code": "SPRING", "amount": "5", "csrf_token": csrf_of(page)}
        assert client.post("/admin/shop/coupon/add", data=data).status_code == 303
        page = client.get("/admin/shop/coupon/add")
        answer = client.post("/admin/shop/coupon/add", data={**data, "csrf_token": csrf_of(page)})
        assert answer.status_code == 422
        assert answer.text.count("<li>A coupon with this code already exists.</li>") == 1
    assert count(db, Coupon) == 1


# The form's layout --------------------------------------------------------------------


def test_ordinary_fields_put_their_label_in_the_label_column_with_a_star(db: Database) -> None:
    with client_of(db, (Article, ArticleAdmin), (Writer, WriterAdmin)) as client:
        page = client.get("/admin/blog/article/add").text
    assert re.search(
        r'<div class="form-row">\s*<label for="id_title">title <span aria-hidden="true">\*'
        r"</span></label>\s*<div",
        page,
    )
    assert re.search(r'<div class="form-row">\s*<label for="id_body">body</label>', page)
    assert '<div class="field"' not in page


def test_an_ordinary_fields_errors_sit_in_its_row(db: Database) -> None:
    with client_of(db, (Article, ArticleAdmin), (Writer, WriterAdmin)) as client:
        page = client.get("/admin/blog/article/add")
        answer = client.post(
            "/admin/blog/article/add", data={"title": "", "csrf_token": csrf_of(page)}
        )
    assert answer.status_code == 422
    assert re.search(
        r'<div class="form-row has-errors">\s*<label for="id_title">title .*?</label>\s*'
        r'<div class="field-input"><input[^>]*aria-invalid="true"[^>]*></div>\s*'
        r'<ul class="errors" id="id_title-errors">',
        answer.text,
        re.S,
    )


# Missing objects ----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["99999", "abc"])
@pytest.mark.parametrize("suffix", ["change", "delete", "history"])
def test_a_missing_object_sends_a_browser_to_the_list_with_a_warning(
    db: Database, key: str, suffix: str
) -> None:
    with client_of(db, (Article, ArticleAdmin), (Writer, WriterAdmin)) as client:
        answer = client.get(f"/admin/blog/article/{key}/{suffix}", headers=HTML)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/admin/blog/article"
        listing = client.get("/admin/blog/article", headers=HTML).text
    message = f"article with ID “{key}” doesn&#39;t exist. Perhaps it was deleted?"
    assert f'<li class="message warning">{message}</li>' in listing


@pytest.mark.parametrize("suffix", ["change", "delete", "history"])
def test_a_missing_object_answers_a_json_client_with_404(db: Database, suffix: str) -> None:
    with client_of(db, (Article, ArticleAdmin), (Writer, WriterAdmin)) as client:
        answer = client.get(
            f"/admin/blog/article/99999/{suffix}", headers={"accept": "application/json"}
        )
    assert answer.status_code == 404
    assert answer.json() == {"detail": "No article with that key"}


# Inline rows --------------------------------------------------------------------------


def test_empty_inline_rows_show_the_columns_defaults(db: Database) -> None:
    with client_of(db, (Shelf, ShelfAdmin)) as client:
        page = client.get("/admin/library/shelf/add").text
    genre = re.search(r'<select[^>]*name="volumes-0-genre"[^>]*>(.*?)</select>', page, re.S)
    assert genre is not None
    assert re.search(r'<option value="fiction"[^>]*selected', genre.group(1))
    assert re.search(r'<input[^>]*name="volumes-0-copies"[^>]*value="0"', page)


def test_an_inline_row_left_as_drawn_adds_nothing(db: Database) -> None:
    with client_of(db, (Shelf, ShelfAdmin)) as client:
        page = client.get("/admin/library/shelf/add").text
        data = {**form_fields(page), "name": "Hall"}
        answer = client.post("/admin/library/shelf/add", data=data)
        assert answer.status_code == 303, answer.text
    assert count(db, Shelf) == 1
    assert count(db, Volume) == 0


def test_an_inline_row_with_a_title_is_added_with_the_defaults(db: Database) -> None:
    with client_of(db, (Shelf, ShelfAdmin)) as client:
        page = client.get("/admin/library/shelf/add").text
        data = {**form_fields(page), "name": "Hall", "volumes-0-title": "Odes"}
        answer = client.post("/admin/library/shelf/add", data=data)
        assert answer.status_code == 303, answer.text

    async def stored() -> list[tuple[str, Genre, int]]:
        other = twin(db)
        async with other.sessionmaker() as session:
            rows = (await session.scalars(select(Volume))).all()
            found = [(v.title, v.genre, v.copies) for v in rows]
        await other.dispose()
        return found

    assert anyio.run(stored) == [("Odes", Genre.fiction, 0)]


def test_an_inline_hiding_a_required_column_is_refused_at_start_up(db: Database) -> None:
    class GenreOnly(TabularInline):
        relation = "volumes"
        fields = ("genre", "copies")

    class BadShelfAdmin(ModelAdmin):
        inlines = (GenreOnly,)

    with pytest.raises(ConfigurationError, match=r"leaves out 'title'") as caught:
        build(db, (Shelf, BadShelfAdmin)).build()
    assert caught.value.code == "admin-option"
