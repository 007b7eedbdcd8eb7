"""Optimistic concurrency: ETag on reads, If-Match on writes (412 when stale, 428 when required)."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import pytest
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm.exc import StaleDataError

from trivium import App
from trivium import Request
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Versioned
from trivium.db import check_if_match
from trivium.db import crud_router
from trivium.db import etag
from trivium.testing import TestClient

SUFFIX = uuid.uuid4().hex[:8]


class Note(IntPK, Model):
    __tablename__ = f"et_notes_{SUFFIX}"
    text: Mapped[str] = mapped_column(String(100))
    secret: Mapped[str] = mapped_column(String(20), default="s")


class Doc(IntPK, Versioned, Model):
    __tablename__ = f"et_docs_{SUFFIX}"
    text: Mapped[str] = mapped_column(String(100))


def etag_app(db: Database, *, required: bool = False) -> App:
    app = App()
    db.init_app(app)
    app.include_router(
        crud_router(Note, db, prefix="/notes", exclude={"secret"}, require_if_match=required)
    )
    app.include_router(crud_router(Doc, db, prefix="/docs", require_if_match=required))
    return app


@pytest.mark.parametrize("prefix", ["/notes", "/docs"])
def test_a_stale_if_match_is_refused_with_412(db: Database, prefix: str) -> None:
    with TestClient(etag_app(db)) as client:
        created = client.post(prefix, json={"text": "v1"})
        url = f"{prefix}/{created.json()['id']}"
        first = client.get(url)
        tag = first.headers["etag"]
        assert tag == created.headers["etag"]
        assert tag.startswith('"')
        # Someone else changes the row with the right tag ...
        changed = client.patch(url, json={"text": "v2"}, headers={"if-match": tag})
        assert changed.status_code == 200
        new_tag = changed.headers["etag"]
        assert new_tag != tag
        assert client.get(url).headers["etag"] == new_tag
        # ... so a write based on the first read is refused, whatever the method.
        for method, body in [
            ("PUT", {"text": "lost"}),
            ("PATCH", {"text": "lost"}),
            ("DELETE", None),
        ]:
            response = client.request(method, url, json=body, headers={"if-match": tag})
            assert response.status_code == 412, response.text
            assert "changed since it was read" in response.json()["detail"]
            assert response.headers["etag"] == new_tag
        assert client.get(url).json()["text"] == "v2"
        assert (
            client.put(
                url, json={"text": "v3"}, headers={"if-match": f'"x", {new_tag}'}
            ).status_code
            == 200
        )
        assert client.delete(url, headers={"if-match": "*"}).status_code == 204


def test_if_match_compares_strongly_and_if_none_match_answers_304(db: Database) -> None:
    with TestClient(etag_app(db)) as client:
        url = f"/notes/{client.post('/notes', json={'text': 'a'}).json()['id']}"
        tag = client.get(url).headers["etag"]
        assert (
            client.patch(url, json={"text": "b"}, headers={"if-match": f"W/{tag}"}).status_code
            == 412
        )
        other = client.get(url, headers={"if-none-match": '"other"'})
        assert other.status_code == 200
        assert other.headers["etag"] == tag
        for header in [tag, f"W/{tag}", f'"other", {tag}', "*"]:
            cached = client.get(url, headers={"if-none-match": header})
            assert cached.status_code == 304
            assert cached.headers["etag"] == tag
            assert cached.content == b""


def test_writes_without_if_match_still_work_unless_required(db: Database) -> None:
    with TestClient(etag_app(db)) as client:
        url = f"/notes/{client.post('/notes', json={'text': 'a'}).json()['id']}"
        assert client.patch(url, json={"text": "b"}).status_code == 200
    with TestClient(etag_app(db, required=True)) as client:
        url = f"/docs/{client.post('/docs', json={'text': 'a'}).json()['id']}"
        for method, body in [("PUT", {"text": "x"}), ("PATCH", {"text": "x"}), ("DELETE", None)]:
            response = client.request(method, url, json=body)
            assert response.status_code == 428
            assert "If-Match" in response.json()["detail"]
        tag = client.get(url).headers["etag"]
        assert client.patch(url, json={"text": "x"}, headers={"if-match": tag}).status_code == 200
        document = client.get("/openapi.json").json()
        responses = document["paths"]["/docs/{id}"]["patch"]["responses"]
        assert {"412", "428"} <= set(responses)


def test_the_content_etag_ignores_columns_the_client_cannot_see(db: Database) -> None:
    with TestClient(etag_app(db)) as client:
        url = f"/notes/{client.post('/notes', json={'text': 'a'}).json()['id']}"
        tag = client.get(url).headers["etag"]

    # A column outside the read schema changes: the representation (and its tag) does not.
    async def hide() -> None:
        async with db.sessionmaker() as session:
            await Note.objects(session).update(secret="other")
            await session.commit()
        await db.dispose()

    anyio.run(hide)
    with TestClient(etag_app(db)) as client:
        assert client.get(url).headers["etag"] == tag


@pytest.mark.anyio
async def test_versioned_rows_refuse_a_stale_update(db: Database) -> None:
    try:
        async with db.sessionmaker() as first, db.sessionmaker() as second:
            doc = await Doc.objects(first).create(text="one")
            await first.commit()
            assert doc.version == 1
            stale = await Doc.objects(second).get(id=doc.id)
            await second.commit()  # SQLite: let the other writer in
            doc.text = "two"
            await first.commit()
            assert doc.version == 2
            assert etag(doc) != etag(stale)
            stale.text = "lost"
            with pytest.raises(StaleDataError):
                await second.flush()
    finally:
        await db.dispose()


def test_check_if_match_in_a_hand_written_handler(db: Database) -> None:
    app = App()
    db.init_app(app)
    session_dependency = db.depends()

    @app.post("/docs")
    async def create(text: str, session: AsyncSession = session_dependency) -> dict[str, Any]:
        doc = await Doc.objects(session).create(text=text)
        return {"id": doc.id}

    @app.put("/docs/{id}")
    async def rename(
        id: int, text: str, request: Request, session: AsyncSession = session_dependency
    ) -> dict[str, Any]:
        doc = await Doc.objects(session).select_for_update().get(id=id)
        check_if_match(request, etag(doc), required=True)
        doc.text = text
        await session.flush()
        return {"version": doc.version}

    with TestClient(app) as client:
        key = client.post("/docs", params={"text": "a"}).json()["id"]
        assert client.put(f"/docs/{key}", params={"text": "b"}).status_code == 428
        tag = f'"Doc-{key}-v1"'
        assert client.put(
            f"/docs/{key}", params={"text": "b"}, headers={"if-match": tag}
        ).json() == {"version": 2}
        assert (
            client.put(f"/docs/{key}", params={"text": "c"}, headers={"if-match": tag}).status_code
            == 412
        )
