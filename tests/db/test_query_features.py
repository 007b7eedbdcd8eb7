"""Django query features on every database: range, date parts, relations, Q, values, slicing, ..."""

from __future__ import annotations

import datetime
import uuid

import anyio
import pytest
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Q
from trivium.db import QueryError
from trivium.db import QuerySet
from trivium.db import UTCDateTime

SUFFIX = uuid.uuid4().hex[:8]
UTC = datetime.UTC

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


class FCountry(IntPK, Model):
    __tablename__ = f"qf_countries_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(50))


class FAuthor(IntPK, Model):
    __tablename__ = f"qf_authors_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(50))
    country_id: Mapped[int | None] = mapped_column(ForeignKey(FCountry.id), default=None)
    country: Mapped[FCountry | None] = relationship()
    books: Mapped[list[FBook]] = relationship(back_populates="author", order_by="FBook.id")


class FBook(IntPK, Model):
    __tablename__ = f"qf_books_{SUFFIX}"
    title: Mapped[str] = mapped_column(String(50))
    pages: Mapped[int]
    released: Mapped[datetime.datetime] = mapped_column(UTCDateTime())
    author_id: Mapped[int | None] = mapped_column(ForeignKey(FAuthor.id), default=None)
    author: Mapped[FAuthor | None] = relationship(back_populates="books")


class FTag(IntPK, Model):
    __tablename__ = f"qf_tags_{SUFFIX}"
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    uses: Mapped[int] = mapped_column(default=0)


async def seed(session: AsyncSession) -> None:
    france = await FCountry.objects(session).create(name="France")
    peru = await FCountry.objects(session).create(name="Peru")
    ursula = await FAuthor.objects(session).create(name="Ursula")
    emile = await FAuthor.objects(session).create(name="Émile", country=france)
    mario = await FAuthor.objects(session).create(name="Mario", country=peru)
    await FBook.objects(session).bulk_create(
        [
            FBook(
                title="Earthsea",
                pages=183,
                released=datetime.datetime(1968, 11, 1, tzinfo=UTC),
                author=ursula,
            ),
            FBook(
                title="Atuan",
                pages=163,
                released=datetime.datetime(1970, 12, 31, 23, 30, tzinfo=UTC),
                author=ursula,
            ),
            FBook(
                title="Nana",
                pages=420,
                released=datetime.datetime(1880, 3, 15, tzinfo=UTC),
                author=emile,
            ),
            # 1 January 00:30 in UTC, still 31 December in New York: parts are taken in UTC.
            FBook(
                title="Germinal",
                pages=590,
                released=datetime.datetime(1885, 1, 1, 0, 30, tzinfo=UTC),
                author=emile,
            ),
            FBook(
                title="Conversation",
                pages=601,
                released=datetime.datetime(1969, 6, 1, tzinfo=UTC),
                author=mario,
            ),
            FBook(title="Orphan", pages=10, released=datetime.datetime(2001, 1, 1, tzinfo=UTC)),
        ]
    )
    await session.commit()


async def titles(query: QuerySet[FBook]) -> list[str]:
    return list(await query.order_by("id").values_list("title", flat=True).all())


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        ({"pages__range": (160, 190)}, ["Earthsea", "Atuan"]),
        ({"released__year": 1970}, ["Atuan"]),
        ({"released__year__gte": 1969}, ["Atuan", "Conversation", "Orphan"]),
        ({"released__year__range": (1880, 1885)}, ["Nana", "Germinal"]),
        ({"released__month": 1}, ["Germinal", "Orphan"]),
        ({"released__day__lt": 2}, ["Earthsea", "Germinal", "Conversation", "Orphan"]),
        ({"released__hour": 23}, ["Atuan"]),
        ({"released__date": datetime.date(1970, 12, 31)}, ["Atuan"]),
        ({"released__date__gt": datetime.date(1969, 6, 1)}, ["Atuan", "Orphan"]),
        ({"released__year__in": [1880, 2001]}, ["Nana", "Orphan"]),
        ({"author__name": "Ursula"}, ["Earthsea", "Atuan"]),
        ({"author__name__istartswith": "é"}, ["Nana", "Germinal"]),
        ({"author__country__name": "Peru"}, ["Conversation"]),
        ({"author__isnull": True}, ["Orphan"]),
        ({"title__iexact": None}, []),
        ({"title__iexact": "NANA"}, ["Nana"]),
        ({"author__country__isnull": True}, ["Earthsea", "Atuan"]),
    ],
)
async def test_lookup_feature(
    session: AsyncSession, lookups: dict[str, object], expected: list[str]
) -> None:
    await seed(session)
    assert await titles(FBook.objects(session).filter(**lookups)) == expected


async def test_lookups_across_a_collection_hold_for_one_related_row(session: AsyncSession) -> None:
    await seed(session)
    authors = FAuthor.objects(session).order_by("id")
    # One book must match both conditions (Django's rule for one filter() call) ...
    same = authors.filter(books__title="Nana", books__pages__gt=500)
    assert await same.values_list("name", flat=True).all() == []
    # ... while separate calls may match different books.
    chained = authors.filter(books__title="Nana").filter(books__pages__gt=500)
    assert await chained.values_list("name", flat=True).all() == ["Émile"]
    # No duplicate rows, however many books match.
    assert await authors.filter(books__pages__gt=100).count() == 3
    assert await authors.exclude(books__pages__gt=500).values_list("name", flat=True).all() == [
        "Ursula"
    ]


async def test_q_objects_combine_with_or_and_not(session: AsyncSession) -> None:
    await seed(session)
    books = FBook.objects(session)
    either = Q(title="Nana") | Q(pages__lt=20)
    assert await titles(books.filter(either)) == ["Nana", "Orphan"]
    assert await titles(books.filter(either & Q(author__isnull=True))) == ["Orphan"]
    assert await titles(books.filter(~Q(author__name="Ursula"), pages__lt=500)) == [
        "Nana",
        "Orphan",
    ]
    assert await titles(books.exclude(Q(pages__gt=500) | Q(released__year__lt=1900))) == [
        "Earthsea",
        "Atuan",
        "Orphan",
    ]
    assert await titles(books.filter(Q(FBook.pages > 590) | Q())) == ["Conversation"]
    assert repr(~Q(title="x")) == "~Q(title='x')"
    with pytest.raises(QueryError, match="has no field 'colour'"):
        books.filter(Q(colour="red") | Q(title="x"))


async def test_values_values_list_and_only(session: AsyncSession) -> None:
    await seed(session)
    books = FBook.objects(session).filter(pages__gt=500).order_by("pages")
    assert await books.values("title", "pages").all() == [
        {"title": "Germinal", "pages": 590},
        {"title": "Conversation", "pages": 601},
    ]
    assert await books.values_list("title", "pages").all() == [
        ("Germinal", 590),
        ("Conversation", 601),
    ]
    assert await books.values_list("pages", flat=True).first() == 590
    assert await books.values("title").get(pages=601) == {"title": "Conversation"}
    assert set((await books.values().first() or {}).keys()) == {
        "id",
        "title",
        "pages",
        "released",
        "author_id",
    }
    session.expunge_all()
    [light, _] = await books.only("title").all()
    assert light.title == "Germinal"
    with pytest.raises(InvalidRequestError, match="pages"):
        _ = light.pages
    with pytest.raises(QueryError, match="exactly one field"):
        books.values_list("title", "pages", flat=True)
    with pytest.raises(QueryError, match="is a relationship"):
        books.values("author")
    with pytest.raises(QueryError, match="is not a relationship"):
        books.values("title__name")
    # Across relationships: outer joins, so a book without an author keeps None.
    across = FBook.objects(session).filter(pages__lt=200).order_by("pages")
    assert await across.values_list("title", "author__name", "author__country__name").all() == [
        ("Orphan", None, None),
        ("Atuan", "Ursula", None),
        ("Earthsea", "Ursula", None),
    ]
    # A collection gives one row per related row, as in Django.
    authors = FAuthor.objects(session).filter(name="Émile")
    assert sorted(await authors.values_list("books__title", flat=True).all()) == [
        "Germinal",
        "Nana",
    ]


async def test_slicing_is_offset_and_limit(session: AsyncSession) -> None:
    await seed(session)
    books = FBook.objects(session).order_by("pages")
    assert [b.title for b in await books[1:3].all()] == ["Atuan", "Earthsea"]
    assert [b.title for b in await books[2:][1:3].all()] == ["Nana", "Germinal"]
    assert [b.title for b in await books[:4][2:10].all()] == ["Earthsea", "Nana"]
    assert (await books[4]).title == "Germinal"
    assert await books[5:].count() == 1
    with pytest.raises(IndexError):
        await books[6]
    with pytest.raises(QueryError, match="negative"):
        books[-1:]
    with pytest.raises(QueryError, match="step"):
        books[::2]


async def test_exists_respects_offset_and_limit(session: AsyncSession) -> None:
    await seed(session)
    books = FBook.objects(session).order_by("id")
    assert await books.offset(5).exists()
    assert not await books.offset(6).exists()
    assert await books.offset(100).count() == 0
    assert not await books[100:].exists()
    assert not await books.limit(0).exists()


async def test_nested_prefetch_loads_every_level(session: AsyncSession) -> None:
    await seed(session)
    session.expunge_all()
    books = (
        await FBook.objects(session)
        .filter(author__isnull=False)
        .prefetch("author__country")
        .order_by("id")
        .all()
    )
    # Loaded eagerly: reading them needs no lazy (impossible in async) load.
    assert [b.author.country.name if b.author and b.author.country else None for b in books] == [
        None,
        None,
        "France",
        "France",
        "Peru",
    ]
    authors = await FAuthor.objects(session).prefetch("books__author").order_by("id").all()
    assert [len(a.books) for a in authors] == [2, 2, 1]
    with pytest.raises(QueryError, match="not a relationship"):
        FBook.objects(session).prefetch("author__name")


async def test_async_iteration(session: AsyncSession) -> None:
    await seed(session)
    assert [
        b.pages async for b in FBook.objects(session).filter(pages__lt=170).order_by("pages")
    ] == [10, 163]


async def test_get_or_create_and_update_or_create(session: AsyncSession) -> None:
    tags = FTag.objects(session)
    tag, created = await tags.get_or_create(slug="sea", defaults={"uses": lambda: 3})
    assert (created, tag.uses) == (True, 3)
    again, created = await tags.get_or_create(slug="sea", defaults={"uses": 9})
    assert (created, again.id, again.uses) == (False, tag.id, 3)
    updated, created = await tags.update_or_create(slug="sea", defaults={"uses": 4})
    assert (created, updated.id, updated.uses) == (False, tag.id, 4)
    fresh, created = await tags.update_or_create(slug="land", defaults={"uses": 1})
    assert (created, fresh.uses) == (True, 1)
    await session.commit()
    assert await tags.order_by("slug").values_list("slug", "uses").all() == [
        ("land", 1),
        ("sea", 4),
    ]


async def test_bulk_create_sets_keys(session: AsyncSession) -> None:
    made = await FTag.objects(session).bulk_create([{"slug": "a"}, FTag(slug="b", uses=2)])
    assert all(isinstance(tag.id, int) for tag in made)
    assert len({tag.id for tag in made}) == 2
    await session.commit()
    assert await FTag.objects(session).order_by("slug").values_list("slug", flat=True).all() == [
        "a",
        "b",
    ]


async def test_query_errors_name_what_is_wrong(session: AsyncSession) -> None:
    books = FBook.objects(session)
    with pytest.raises(QueryError, match="two values"):
        books.filter(pages__range=(1, 2, 3))
    with pytest.raises(QueryError, match="needs a date or time column"):
        books.filter(title__year=2000)
    with pytest.raises(QueryError, match=r"unknown lookup 'icontains' .* use one of: exact, gt"):
        books.filter(released__year__icontains="19")
    with pytest.raises(QueryError, match="or a field of FAuthor"):
        books.filter(author__nam="x")
    with pytest.raises(QueryError, match="takes a string"):
        books.filter(title__icontains=3)


CALLERS = 20


async def test_get_or_create_is_atomic_under_concurrency(db: Database) -> None:
    results: list[tuple[int, bool]] = []

    async def caller() -> None:
        async with db.sessionmaker() as session:
            tag, created = await FTag.objects(session).get_or_create(
                slug="race", defaults={"uses": 1}
            )
            await session.commit()
            results.append((tag.id, created))

    try:
        async with anyio.create_task_group() as group:
            for _ in range(CALLERS):
                group.start_soon(caller)
        assert len(results) == CALLERS
        assert sum(created for _, created in results) == 1
        assert len({key for key, _ in results}) == 1
        async with db.sessionmaker() as session:
            assert await FTag.objects(session).filter(slug="race").count() == 1
    finally:
        await db.dispose()


async def test_update_or_create_is_atomic_under_concurrency(db: Database) -> None:
    created_flags: list[bool] = []

    async def caller(number: int) -> None:
        async with db.sessionmaker() as session:
            _, created = await FTag.objects(session).update_or_create(
                slug="counter", defaults={"uses": number}
            )
            await session.commit()
            created_flags.append(created)

    try:
        async with anyio.create_task_group() as group:
            for number in range(CALLERS):
                group.start_soon(caller, number)
        assert sorted(created_flags) == [False] * (CALLERS - 1) + [True]
        async with db.sessionmaker() as session:
            assert await FTag.objects(session).filter(slug="counter").count() == 1
    finally:
        await db.dispose()
