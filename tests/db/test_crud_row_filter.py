"""`row_filter`: a CRUD router that serves each request its own rows only."""

from __future__ import annotations

from typing import Annotated
from typing import Any

from tests.db.crud_models import Post
from tests.db.crud_models import Writer

from trivium import App
from trivium import Header
from trivium import HTTPException
from trivium.db import Database
from trivium.db import crud_router
from trivium.testing import TestClient


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
