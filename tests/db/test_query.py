from __future__ import annotations

import uuid

import pytest
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import selectinload

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import NotFound
from trivium.db import Page
from trivium.db import QueryError
from trivium.testing import TestClient

SUFFIX = uuid.uuid4().hex[:8]

pytestmark = pytest.mark.anyio


class QueryAuthor(IntPK, Model):
    __tablename__ = f"q_authors_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(100))
    books: Mapped[list[QueryBook]] = relationship(back_populates="author", order_by="QueryBook.id")


class QueryBook(IntPK, Model):
    __tablename__ = f"q_books_{SUFFIX}"
    title: Mapped[str] = mapped_column(String(100))
    pages: Mapped[int]
    published: Mapped[bool] = mapped_column(default=False)
    subtitle: Mapped[str | None] = mapped_column(String(100), default=None)
    author_id: Mapped[int | None] = mapped_column(ForeignKey(QueryAuthor.id), default=None)
    author: Mapped[QueryAuthor | None] = relationship(back_populates="books")


async def seed(session: AsyncSession) -> QueryAuthor:
    author = await QueryAuthor.objects(session).create(name="Ursula")
    books = QueryBook.objects(session)
    await books.create(title="A Wizard of Earthsea", pages=183, published=True, author=author)
    await books.create(title="The Tombs of Atuan", pages=163, published=True, author=author)
    await books.create(title="The Farthest Shore", pages=223, subtitle="Earthsea 3")
    await books.create(title="100% Pure_Fiction", pages=50)
    await session.commit()
    return author


async def titles(query: object) -> list[str]:
    from trivium.db import QuerySet

    assert isinstance(query, QuerySet)
    return [book.title for book in await query.order_by("id").all()]


async def test_filter_with_several_lookups_combines_them(session: AsyncSession) -> None:
    await seed(session)
    books = QueryBook.objects(session)
    assert await titles(books.filter(title__icontains="THE", pages__gt=170)) == [
        "The Farthest Shore"
    ]
    assert await titles(books.filter(published=True)) == [
        "A Wizard of Earthsea",
        "The Tombs of Atuan",
    ]


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        ({"title": "The Tombs of Atuan"}, ["The Tombs of Atuan"]),
        ({"title__exact": "The Tombs of Atuan"}, ["The Tombs of Atuan"]),
        ({"title__iexact": "the tombs of atuan"}, ["The Tombs of Atuan"]),
        ({"title__contains": "Shore"}, ["The Farthest Shore"]),
        ({"title__contains": "100%"}, ["100% Pure_Fiction"]),
        ({"title__contains": "e_F"}, ["100% Pure_Fiction"]),
        ({"title__icontains": "earthsea"}, ["A Wizard of Earthsea"]),
        ({"title__startswith": "The"}, ["The Tombs of Atuan", "The Farthest Shore"]),
        ({"title__istartswith": "a wiz"}, ["A Wizard of Earthsea"]),
        ({"title__endswith": "Atuan"}, ["The Tombs of Atuan"]),
        ({"title__iendswith": "SHORE"}, ["The Farthest Shore"]),
        ({"pages__gt": 183}, ["The Farthest Shore"]),
        ({"pages__gte": 183}, ["A Wizard of Earthsea", "The Farthest Shore"]),
        ({"pages__lt": 163}, ["100% Pure_Fiction"]),
        ({"pages__lte": 163}, ["The Tombs of Atuan", "100% Pure_Fiction"]),
        ({"pages__in": [50, 223]}, ["The Farthest Shore", "100% Pure_Fiction"]),
        ({"subtitle__isnull": False}, ["The Farthest Shore"]),
        ({"subtitle": None, "published": False}, ["100% Pure_Fiction"]),
        ({"author__isnull": True}, ["The Farthest Shore", "100% Pure_Fiction"]),
        # Text lookups on a number match its text, as in Django.
        ({"pages__icontains": "8"}, ["A Wizard of Earthsea"]),
        ({"pages__startswith": "1"}, ["A Wizard of Earthsea", "The Tombs of Atuan"]),
        ({"pages__endswith": "0"}, ["100% Pure_Fiction"]),
        ({"pages__iexact": "50"}, ["100% Pure_Fiction"]),
    ],
)
async def test_lookup(
    session: AsyncSession, lookups: dict[str, object], expected: list[str]
) -> None:
    await seed(session)
    assert await titles(QueryBook.objects(session).filter(**lookups)) == expected


async def test_exclude_filter_by_relationship_and_sqlalchemy_expressions(
    session: AsyncSession,
) -> None:
    author = await seed(session)
    books = QueryBook.objects(session)
    assert await titles(books.filter(author=author).exclude(pages__lt=170)) == [
        "A Wizard of Earthsea"
    ]
    assert await titles(books.filter(QueryBook.pages > 200)) == ["The Farthest Shore"]
    assert await titles(books.exclude(QueryBook.published.is_(True), pages__gt=170)) == [
        "The Tombs of Atuan",
        "The Farthest Shore",
        "100% Pure_Fiction",
    ]
    assert books.exclude() is books


async def test_exclude_keeps_rows_where_the_field_is_null(session: AsyncSession) -> None:
    await seed(session)
    books = QueryBook.objects(session)
    assert await titles(books.exclude(subtitle="Earthsea 3")) == [
        "A Wizard of Earthsea",
        "The Tombs of Atuan",
        "100% Pure_Fiction",
    ]
    assert await titles(books.exclude(subtitle__icontains="earth", pages__lt=100)) == [
        "A Wizard of Earthsea",
        "The Tombs of Atuan",
        "The Farthest Shore",
        "100% Pure_Fiction",
    ]


async def test_order_by_limit_and_offset(session: AsyncSession) -> None:
    await seed(session)
    books = QueryBook.objects(session)
    ordered = books.order_by("-pages").limit(2)
    assert [b.pages for b in await ordered.all()] == [223, 183]
    assert [b.pages for b in await ordered.offset(1).all()] == [183, 163]
    assert [b.pages for b in await books.order_by(QueryBook.pages).limit(1).all()] == [50]
    assert [b.pages for b in await books.order_by("published", "-title").all()] == [
        223,
        50,
        163,
        183,
    ]


async def test_get_by_fields_answers_every_shape_of_lookup(session: AsyncSession) -> None:
    # Plain `get(field=value)` runs a prepared statement; every other shape the general
    # query. Both must agree, call after call, whatever the values.
    author = await seed(session)
    books = QueryBook.objects(session)
    for pages, title in [
        (183, "A Wizard of Earthsea"),
        (50, "100% Pure_Fiction"),
        (163, "The Tombs of Atuan"),
    ]:
        assert (await books.get(pages=pages)).title == title
    assert (await books.get(pages=223, title="The Farthest Shore")).subtitle == "Earthsea 3"
    assert await books.get_or_none(pages=223, title="The Tombs of Atuan") is None
    by_id = await books.get(id=(await books.get(pages=50)).id)
    assert by_id.title == "100% Pure_Fiction"
    # None means IS NULL; an expression compares columns; a relation matches by object.
    assert (await books.filter(published=True).get(subtitle=None, pages=183)).pages == 183
    with pytest.raises(Exception, match="more than one|Multiple rows"):
        await books.get(subtitle=None)
    assert (await books.get(pages=QueryBook.pages, title="The Farthest Shore")).pages == 223
    assert len(await books.filter(author=author).all()) == 2
    # A refined query set keeps its conditions.
    assert await books.filter(published=False).get_or_none(pages=183) is None
    assert await books.exclude(pages=183).get_or_none(pages=183) is None
    with pytest.raises(QueryError, match="has no field 'colour'"):
        await books.get(colour="red")


async def test_get_first_count_and_exists(session: AsyncSession) -> None:
    await seed(session)
    books = QueryBook.objects(session)
    assert (await books.get(pages=163)).title == "The Tombs of Atuan"
    assert (await books.filter(pages=163).get()).pages == 163
    assert await books.get_or_none(pages=1) is None
    with pytest.raises(NotFound, match="QueryBook not found") as caught:
        await books.get(title="missing")
    assert caught.value.status_code == 404
    first = await books.order_by("-pages").first()
    assert first is not None
    assert first.pages == 223
    assert await books.filter(pages=1).first() is None
    assert await books.count() == 4
    assert await books.filter(published=True).count() == 2
    assert await books.order_by("id").limit(3).count() == 3
    assert await books.filter(published=True).exists()
    assert not await books.filter(pages__gt=1000).exists()


async def test_update_and_delete_return_row_counts(session: AsyncSession) -> None:
    await seed(session)
    books = QueryBook.objects(session)
    assert await books.filter(published=False).update(published=True) == 2
    assert await books.filter(published=True).count() == 4
    assert await books.filter(pages__lt=170).delete() == 2
    assert await books.count() == 2
    with pytest.raises(QueryError, match="sliced or ordered"):
        await books.limit(1).delete()
    with pytest.raises(QueryError, match="has no field 'colour'"):
        await books.update(colour="red")


async def test_paginate_returns_a_typed_page(session: AsyncSession) -> None:
    await seed(session)
    page = await QueryBook.objects(session).order_by("pages").paginate(page=2, size=3)
    assert isinstance(page, Page)
    assert [b.pages for b in page.items] == [223]
    assert (page.total, page.page, page.size, page.pages) == (4, 2, 3, 2)
    empty = await QueryBook.objects(session).filter(pages=0).paginate()
    assert (empty.items, empty.total, empty.pages) == ([], 0, 1)


async def test_prefetch_loads_relationships_eagerly(session: AsyncSession) -> None:
    await seed(session)
    session.expunge_all()
    author = await QueryAuthor.objects(session).prefetch("books").get(name="Ursula")
    assert [b.pages for b in author.books] == [183, 163]
    with pytest.raises(QueryError, match="not a relationship"):
        QueryAuthor.objects(session).prefetch("name")
    session.expunge_all()
    again = (
        await QueryAuthor.objects(session)
        .options(selectinload(QueryAuthor.books))
        .get(name="Ursula")
    )
    assert len(again.books) == 2


async def test_foreign_keys_are_enforced(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError):
        await QueryBook.objects(session).create(title="Orphan", pages=1, author_id=999)


async def test_select_for_update_adds_a_row_lock(session: AsyncSession) -> None:
    statement = QueryBook.objects(session).filter(pages=1).select_for_update().statement
    assert statement._for_update_arg is not None


async def test_unknown_field_fails_at_call_time_naming_the_fields(session: AsyncSession) -> None:
    books = QueryBook.objects(session)
    with pytest.raises(
        QueryError, match=r"QueryBook has no field 'titel'; fields: author, author_id"
    ):
        books.filter(titel="x")
    with pytest.raises(QueryError, match=r"unknown lookup 'icontain' in 'title__icontain'"):
        books.filter(title__icontain="x")
    with pytest.raises(QueryError, match=r"unknown lookup 'gt' .* use one of: exact, isnull"):
        books.filter(author__gt=1)
    with pytest.raises(QueryError, match="has no field 'nope'"):
        books.order_by("-nope")
    with pytest.raises(QueryError, match="cannot order QueryBook by relationship"):
        books.order_by("author")
    with pytest.raises(QueryError, match="'in' lookup takes a list"):
        books.filter(title__in="abc")
    with pytest.raises(QueryError, match="'isnull' lookup takes True or False"):
        books.filter(subtitle__isnull="yes")


def test_get_of_a_missing_row_answers_404_and_bad_pages_400(db: Database) -> None:
    app = App()
    db.init_app(app)

    @app.get("/books/{book_id}")
    async def read(book_id: int, session: AsyncSession = db.depends()) -> dict[str, object]:
        return (await QueryBook.objects(session).get(id=book_id)).to_dict()

    @app.get("/books")
    async def index(page: int, session: AsyncSession = db.depends()) -> dict[str, int]:
        return {"total": (await QueryBook.objects(session).paginate(page=page)).total}

    with TestClient(app) as client:
        response = client.get("/books/42")
        assert response.status_code == 404
        assert response.json() == {"detail": "QueryBook not found"}
        response = client.get("/books", params={"page": 0})
        assert response.status_code == 400
        assert "page and size must be at least 1" in response.json()["detail"]
