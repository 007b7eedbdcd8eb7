"""`row_filter`: a CRUD router that serves each request its own rows only."""

from __future__ import annotations

from typing import Annotated
from typing import Any

import pytest
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from tests.db.crud_models import SUFFIX
from tests.db.crud_models import Post
from tests.db.crud_models import Writer

from trivium import App
from trivium import Header
from trivium import HTTPException
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import QueryError
from trivium.db import crud_router
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


class Chore(IntPK, Model):
    __tablename__ = f"crud_ch_{SUFFIX}"
    text: Mapped[str] = mapped_column(String(50))
    owner: Mapped[str] = mapped_column(String(20))


def own_chores(x_user: Annotated[str, Header()]) -> dict[str, Any]:
    return {"owner": x_user}


def misspelt(x_user: Annotated[str, Header()]) -> dict[str, Any]:
    return {"ownr": x_user}


def nobody() -> dict[str, Any]:
    return {}


def _chores(db: Database, row_filter: Any) -> App:
    app = App()
    db.init_app(app)
    app.include_router(
        crud_router(Chore, db, prefix="/chores", read_only={"owner"}, row_filter=row_filter)
    )
    return app


def own_posts(x_writer: Annotated[int | None, Header()] = None) -> dict[str, Any]:
    if x_writer is None:
        raise HTTPException(401, "Who are you?")
    return {"writer_id": x_writer}


def _app(db: Database) -> App:
    app = App()
    db.init_app(app)
    app.include_router(crud_router(Writer, db, prefix="/writers"))
    app.include_router(crud_router(Post, db, prefix="/posts", row_filter=own_posts))
    return app


def _as(writer: int) -> dict[str, str]:
    return {"x-writer": str(writer)}


def test_rows_of_another_scope_are_invisible_and_untouchable(db: Database) -> None:
    with TestClient(_app(db)) as client:
        ada, bob = (client.post("/writers", json={"name": n}).json()["id"] for n in ("a", "b"))
        post = client.post("/posts", json={"title": "A", "slug": "a"}, headers=_as(ada)).json()
        assert post["writer_id"] == ada  # new rows get the filter's values
        url = f"/posts/{post['id']}"
        assert client.get("/posts", headers=_as(bob)).json()["items"] == []
        assert client.get(url, headers=_as(bob)).status_code == 404
        assert client.patch(url, json={"title": "B"}, headers=_as(bob)).status_code == 404
        replaced = client.put(url, json={"title": "B", "slug": "b"}, headers=_as(bob))
        assert replaced.status_code == 404
        assert client.delete(url, headers=_as(bob)).status_code == 404
        [listed] = client.get("/posts", headers=_as(ada)).json()["items"]
        assert (listed["id"], listed["title"]) == (post["id"], "A")
        assert client.get("/posts").status_code == 401  # the dependency's own answer


def test_a_body_cannot_move_a_row_out_of_its_scope(db: Database) -> None:
    with TestClient(_app(db)) as client:
        ada, bob = (client.post("/writers", json={"name": n}).json()["id"] for n in ("a", "b"))
        body = {"title": "A", "slug": "a", "writer_id": bob}
        post = client.post("/posts", json=body, headers=_as(ada)).json()
        assert post["writer_id"] == ada
        url = f"/posts/{post['id']}"
        moved = client.patch(url, json={"writer_id": bob}, headers=_as(ada))
        assert moved.json()["writer_id"] == ada
        assert client.delete(url, headers=_as(ada)).status_code == 204


def test_a_row_filter_fills_a_required_read_only_column(db: Database) -> None:
    with TestClient(_chores(db, own_chores)) as client:
        created = client.post("/chores", json={"text": "a"}, headers={"x-user": "bob"})
        assert created.status_code == 201, created.text
        assert created.json()["owner"] == "bob"
        assert client.get("/chores", headers={"x-user": "eve"}).json()["total"] == 0


def test_a_row_filter_leaving_a_required_hidden_column_out_fails_on_create(
    db: Database,
) -> None:
    with TestClient(_chores(db, nobody)) as client, pytest.raises(ConfigurationError) as caught:
        client.post("/chores", json={"text": "a"})
    assert caught.value.code == "crud-hidden-required"
    assert "row_filter" in str(caught.value)


def test_without_a_row_filter_a_required_hidden_column_fails_at_start_up(db: Database) -> None:
    with pytest.raises(ConfigurationError, match="row_filter") as caught:
        crud_router(Chore, db, read_only={"owner"})
    assert caught.value.code == "crud-hidden-required"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "/chores"),
        ("GET", "/chores"),
        ("GET", "/chores/1"),
        ("PATCH", "/chores/1"),
        ("PUT", "/chores/1"),
        ("DELETE", "/chores/1"),
    ],
)
def test_a_row_filter_key_that_is_no_field_fails_every_operation_and_writes_nothing(
    db: Database, method: str, url: str
) -> None:
    app = App()
    db.init_app(app)
    app.include_router(crud_router(Chore, db, prefix="/chores", row_filter=misspelt))
    with TestClient(app) as client:
        body = {"text": "a", "owner": "bob"}
        with pytest.raises(QueryError, match="'ownr'"):
            client.request(
                method,
                url,
                json=body if method in ("POST", "PUT", "PATCH") else None,
                headers={"x-user": "eve"},
            )
    with TestClient(_chores(db, own_chores)) as client:
        assert client.get("/chores", headers={"x-user": "bob"}).json()["total"] == 0
