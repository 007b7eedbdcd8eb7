"""Constraint violations through a CRUD router are 409s with a clear message, never 500s."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from tests.db.crud_models import Post
from tests.db.crud_models import crud_app

from trivium.db import Database
from trivium.db import integrity_error_handler
from trivium.testing import TestClient


def test_a_duplicate_unique_value_on_create_is_a_409(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        assert client.post("/posts", json={"title": "a", "slug": "same"}).status_code == 201
        response = client.post("/posts", json={"title": "b", "slug": "same"})
        assert response.status_code == 409
        assert response.json() == {"detail": "a post with this slug already exists"}
        assert client.get("/posts").json()["total"] == 1


def test_a_duplicate_unique_value_on_update_is_a_409_and_changes_nothing(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        client.post("/posts", json={"title": "a", "slug": "taken"})
        other = client.post("/posts", json={"title": "b", "slug": "free"}).json()
        response = client.patch(f"/posts/{other['id']}", json={"slug": "taken", "title": "c"})
        assert response.status_code == 409
        assert response.json() == {"detail": "a post with this slug already exists"}
        put = client.put(f"/posts/{other['id']}", json={"slug": "taken", "title": "c"})
        assert put.status_code == 409
        assert client.get(f"/posts/{other['id']}").json() == other


def test_a_reference_to_a_missing_row_is_a_409(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        response = client.post("/posts", json={"title": "a", "slug": "a", "writer_id": 999999})
        assert response.status_code == 409
        assert response.json() == {"detail": "writer_id refers to a missing writer"}
        assert client.get("/posts").json()["total"] == 0


def test_a_reference_set_by_patch_to_a_missing_row_is_a_409(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        writer = client.post("/writers", json={"name": "Ursula"}).json()
        post = client.post(
            "/posts", json={"title": "a", "slug": "a", "writer_id": writer["id"]}
        ).json()
        assert post["writer_id"] == writer["id"]
        response = client.patch(f"/posts/{post['id']}", json={"writer_id": writer["id"] + 1})
        assert response.status_code == 409
        assert response.json() == {"detail": "writer_id refers to a missing writer"}


def test_deleting_a_referenced_row_is_a_409(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        writer = client.post("/writers", json={"name": "Ursula"}).json()
        client.post("/posts", json={"title": "a", "slug": "a", "writer_id": writer["id"]})
        response = client.delete(f"/writers/{writer['id']}")
        assert response.status_code == 409
        detail = response.json()["detail"]
        assert detail.startswith(f"Writer {writer['id']} is still referenced by ")
        assert detail.endswith("; delete or reassign them first")
        assert client.get(f"/writers/{writer['id']}").status_code == 200


def test_the_session_stays_usable_after_a_409(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        client.post("/posts", json={"title": "a", "slug": "a"})
        assert client.post("/posts", json={"title": "b", "slug": "a"}).status_code == 409
        assert client.post("/posts", json={"title": "b", "slug": "b"}).status_code == 201
        assert client.get("/posts").json()["total"] == 2


def test_integrity_error_handler_turns_a_commit_time_violation_into_a_409(
    db: Database,
) -> None:
    app = crud_app(db)
    app.add_exception_handler(IntegrityError, integrity_error_handler)

    @app.post("/raw")
    async def raw(slug: str, session: AsyncSession = db.depends()) -> dict[str, bool]:  # type: ignore[assignment]
        session.add(Post(title="raw", slug=slug))  # not flushed: fails at commit
        return {"ok": True}

    with TestClient(app) as client:
        assert client.post("/raw", params={"slug": "x"}).status_code == 200
        response = client.post("/raw", params={"slug": "x"})
        assert response.status_code == 409
        assert response.json() == {"detail": "a post with this slug already exists"}
