"""Every text lookup means the same on SQLite, PostgreSQL and MariaDB, non-ASCII text included.

The decisions the matrix pins down (docs/database.md, "Text lookups"): `exact`,
`contains`, `startswith`, `endswith`, `in` and comparisons are case- and accent-sensitive;
the `i` lookups lower both sides with Unicode's simple case mapping, so `ÉCOLE` matches
`école` but accents still count, `ß` does not expand to `ss`, and no Turkish tailoring
applies (`İ` lowers to `i`; dotless `ı` matches nothing but itself).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import crud_router
from trivium.testing import TestClient

SUFFIX = uuid.uuid4().hex[:8]

WORDS = [
    "école",
    "ÉCOLE",
    "Ecole",
    "straße",
    "STRASSE",
    "İstanbul",
    "istanbul",
    "ISTANBUL",
    "ıstanbul",
    "Report",
    "report",
    "50%_off",
    "a*b?[c]",
    "x/y",
]


class Word(IntPK, Model):
    __tablename__ = f"lk_words_{SUFFIX}"
    text: Mapped[str] = mapped_column(String(50))


MATRIX: list[tuple[str, object, set[str]]] = [
    ("exact", "Report", {"Report"}),
    ("exact", "école", {"école"}),
    ("exact", "report ", set()),
    ("iexact", "école", {"école", "ÉCOLE"}),
    ("iexact", "REPORT", {"Report", "report"}),
    ("iexact", "STRASSE", {"STRASSE"}),
    ("iexact", "straße", {"straße"}),
    ("iexact", "istanbul", {"İstanbul", "istanbul", "ISTANBUL"}),
    ("iexact", "ıSTANBUL", {"ıstanbul"}),
    ("contains", "cole", {"école", "Ecole"}),
    ("contains", "COLE", {"ÉCOLE"}),
    ("contains", "%_", {"50%_off"}),
    ("contains", "*b?", {"a*b?[c]"}),
    ("contains", "[c]", {"a*b?[c]"}),
    ("contains", "/", {"x/y"}),
    ("icontains", "COLE", {"école", "ÉCOLE", "Ecole"}),
    ("icontains", "ÉCO", {"école", "ÉCOLE"}),
    ("icontains", "SSE", {"STRASSE"}),
    ("icontains", "_OFF", {"50%_off"}),
    ("startswith", "É", {"ÉCOLE"}),
    ("startswith", "r", {"report"}),
    ("startswith", "a*", {"a*b?[c]"}),
    ("istartswith", "é", {"école", "ÉCOLE"}),
    ("istartswith", "R", {"Report", "report"}),
    ("endswith", "ORT", set()),
    ("endswith", "ße", {"straße"}),
    ("iendswith", "ORT", {"Report", "report"}),
    ("iendswith", "BUL", {"İstanbul", "istanbul", "ISTANBUL", "ıstanbul"}),
    ("in", ["report", "ÉCOLE", "ecole"], {"report", "ÉCOLE"}),
    ("gt", "r", {"report", "straße", "école", "ÉCOLE", "İstanbul", "ıstanbul", "x/y"}),
    ("range", ["R", "Rz"], {"Report"}),
]


@pytest.fixture
async def words(session: AsyncSession) -> AsyncSession:
    await Word.objects(session).bulk_create([{"text": text} for text in WORDS])
    await session.commit()
    return session


pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("lookup", "value", "expected"), MATRIX)
async def test_text_lookup_means_the_same_on_every_database(
    words: AsyncSession, lookup: str, value: object, expected: set[str]
) -> None:
    query = Word.objects(words).filter(**{f"text__{lookup}": value})
    assert set(await query.values_list("text", flat=True).all()) == expected


@pytest.mark.parametrize(("lookup", "value", "expected"), MATRIX)
async def test_exclude_is_the_complement_of_filter(
    words: AsyncSession, lookup: str, value: object, expected: set[str]
) -> None:
    query = Word.objects(words).exclude(**{f"text__{lookup}": value})
    assert set(await query.values_list("text", flat=True).all()) == set(WORDS) - expected


async def test_get_by_text_is_case_sensitive_everywhere(words: AsyncSession) -> None:
    # On MariaDB the default collation made this MultipleResultsFound (a 500).
    assert (await Word.objects(words).get(text="Report")).text == "Report"
    assert (await Word.objects(words).get(text="report")).text == "report"
    assert await Word.objects(words).get_or_none(text="REPORT") is None


def test_search_is_case_insensitive_for_all_of_unicode(db: Database) -> None:
    app = App()
    db.init_app(app)
    app.include_router(crud_router(Word, db, prefix="/words", search=["text"], max_page_size=50))
    with TestClient(app) as client:
        for text in WORDS:
            assert client.post("/words", json={"text": text}).status_code == 201
        found = client.get("/words", params={"search": "ÉCOL", "size": 50}).json()
        assert {item["text"] for item in found["items"]} == {"école", "ÉCOLE"}
        found = client.get("/words", params={"search": "%_O", "size": 50}).json()
        assert {item["text"] for item in found["items"]} == {"50%_off"}
