"""The six operations of a CRUD router, driven over HTTP on every configured backend."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from tests.db.crud_models import crud_app

from trivium.db import Database
from trivium.testing import TestClient


def parse(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value)


def add_posts(client: TestClient, *titles: str) -> list[dict[str, Any]]:
    created = []
    for index, title in enumerate(titles):
        response = client.post(
            "/posts", json={"title": title, "slug": f"slug-{index}", "pages": 10 * (index + 1)}
        )
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


def test_create_answers_201_with_location_and_the_read_schema(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        response = client.post("/posts", json={"title": "Hello", "slug": "hello"})
        assert response.status_code == 201
        body = response.json()
        assert response.headers["location"] == f"/posts/{body['id']}"
        assert body["title"] == "Hello"
        assert body["body"] is None
        assert body["pages"] == 1
        assert body["published"] is False
        assert body["created_at"].endswith("Z")
        assert "secret" not in body


def test_create_missing_a_required_field_is_a_422(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        response = client.post("/posts", json={"title": "no slug"})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "slug"]
        assert error["type"] == "missing"


def test_create_enforces_string_length_from_the_column(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        response = client.post("/posts", json={"title": "x" * 41, "slug": "long"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "string_too_long"


@pytest.mark.parametrize("field", ["id", "created_at", "secret", "unknown"])
def test_read_only_excluded_and_unknown_fields_are_rejected(db: Database, field: str) -> None:
    with TestClient(crud_app(db)) as client:
        response = client.post("/posts", json={"title": "t", "slug": "s", field: "1"})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["type"] == "extra_forbidden"
        assert error["loc"] == ["body", field]


def test_read_returns_the_row_and_404_for_a_missing_one(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        [post] = add_posts(client, "One")
        assert client.get(f"/posts/{post['id']}").json() == post
        response = client.get("/posts/999999")
        assert response.status_code == 404
        assert response.json() == {"detail": "Post 999999 not found"}


def test_a_malformed_id_is_a_422(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        response = client.get("/posts/abc")
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["path", "id"]
        assert client.get("/tags/not-a-uuid").status_code == 422


def test_uuid_primary_keys_work(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        created = client.post("/tags", json={"label": "news"})
        assert created.status_code == 201
        tag_id = created.json()["id"]
        assert len(tag_id) == 36
        assert client.get(f"/tags/{tag_id}").json() == {"id": tag_id, "label": "news"}
        missing = "00000000-0000-4000-8000-000000000000"
        assert client.get(f"/tags/{missing}").json() == {"detail": f"Tag {missing} not found"}


def test_patch_changes_only_the_fields_sent(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        [post] = add_posts(client, "Before")
        client.patch(f"/posts/{post['id']}", json={"body": "text", "published": True})
        response = client.patch(f"/posts/{post['id']}", json={"title": "After"})
        assert response.status_code == 200
        body = response.json()
        assert body["title"] == "After"
        assert body["body"] == "text"
        assert body["published"] is True
        assert body["pages"] == post["pages"]
        assert body["slug"] == post["slug"]
        assert body["created_at"] == post["created_at"]
        assert parse(body["updated_at"]) > parse(post["updated_at"])
        assert client.get(f"/posts/{post['id']}").json() == body


def test_patch_with_null_for_a_non_nullable_field_is_a_422(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        [post] = add_posts(client, "Keep")
        response = client.patch(f"/posts/{post['id']}", json={"title": None})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "title"]
        response = client.patch(f"/posts/{post['id']}", json={"body": None})
        assert response.status_code == 200


def test_put_replaces_the_row_resetting_fields_left_out(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        [post] = add_posts(client, "Old")
        client.patch(f"/posts/{post['id']}", json={"body": "text", "published": True})
        response = client.put(f"/posts/{post['id']}", json={"title": "New", "slug": "new"})
        assert response.status_code == 200
        body = response.json()
        assert (body["title"], body["slug"], body["body"]) == ("New", "new", None)
        assert (body["pages"], body["published"]) == (1, False)
        assert body["id"] == post["id"]


def test_put_needs_the_required_fields(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        [post] = add_posts(client, "Old")
        response = client.put(f"/posts/{post['id']}", json={"title": "New"})
        assert response.status_code == 422
        assert client.put("/posts/999999", json={"title": "a", "slug": "b"}).status_code == 404
        assert client.patch("/posts/999999", json={"title": "a"}).status_code == 404


def test_delete_answers_204_then_404(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        [post] = add_posts(client, "Gone")
        response = client.delete(f"/posts/{post['id']}")
        assert response.status_code == 204
        assert response.content == b""
        assert client.get(f"/posts/{post['id']}").status_code == 404
        assert client.delete(f"/posts/{post['id']}").json() == {
            "detail": f"Post {post['id']} not found"
        }


def test_list_paginates_with_totals(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        add_posts(client, "a", "b", "c", "d", "e")
        first = client.get("/posts").json()
        assert [p["title"] for p in first["items"]] == ["a", "b"]
        assert (first["total"], first["page"], first["size"], first["pages"]) == (5, 1, 2, 3)
        last = client.get("/posts", params={"page": 3}).json()
        assert [p["title"] for p in last["items"]] == ["e"]
        beyond = client.get("/posts", params={"page": 9}).json()
        assert (beyond["items"], beyond["total"]) == ([], 5)
        three = client.get("/posts", params={"size": 3}).json()
        assert (len(three["items"]), three["pages"]) == (3, 2)


@pytest.mark.parametrize("params", [{"page": 0}, {"size": 0}, {"size": 4}, {"page": "x"}])
def test_list_rejects_bad_paging_with_422(db: Database, params: dict[str, Any]) -> None:
    with TestClient(crud_app(db)) as client:
        response = client.get("/posts", params=params)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


def test_list_filters_on_declared_fields_and_lookups(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        posts = add_posts(client, "Alpha", "Beta", "alphabet")
        client.patch(f"/posts/{posts[1]['id']}", json={"published": True})

        def titles(**params: Any) -> list[str]:
            response = client.get("/posts", params={"size": 3, **params})
            assert response.status_code == 200, response.text
            return [p["title"] for p in response.json()["items"]]

        assert titles(published=True) == ["Beta"]
        assert titles(published=False) == ["Alpha", "alphabet"]
        assert titles(title__icontains="ALPHA") == ["Alpha", "alphabet"]
        assert titles(pages__gte=20) == ["Beta", "alphabet"]
        assert titles(id__in=[posts[0]["id"], posts[2]["id"]]) == ["Alpha", "alphabet"]
        assert titles(title__icontains="alpha", pages__gte=20) == ["alphabet"]


def test_list_filter_values_are_validated(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        response = client.get("/posts", params={"pages__gte": "many"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "pages__gte"]


def test_undeclared_filters_are_ignored(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        add_posts(client, "a", "b")
        assert client.get("/posts", params={"slug": "slug-0"}).json()["total"] == 2


def test_list_orders_by_allowed_fields(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        add_posts(client, "b", "c", "a")

        def titles(ordering: str) -> list[str]:
            response = client.get("/posts", params={"size": 3, "ordering": ordering})
            return [p["title"] for p in response.json()["items"]]

        assert titles("title") == ["a", "b", "c"]
        assert titles("-title") == ["c", "b", "a"]
        assert titles("-pages") == ["a", "c", "b"]
        assert titles("created_at, title") == ["b", "c", "a"]


def test_ordering_by_an_unknown_field_is_a_422(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        response = client.get("/posts", params={"ordering": "-title,secret"})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "ordering"]
        assert "cannot order by 'secret'" in error["msg"]
        assert "title, pages, created_at" in error["msg"]


def test_search_matches_any_search_field_case_insensitively(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        posts = add_posts(client, "Cats", "Dogs", "Birds")
        client.patch(f"/posts/{posts[2]['id']}", json={"body": "no cats here"})
        found = client.get("/posts", params={"search": "CAT", "size": 3}).json()
        assert [p["title"] for p in found["items"]] == ["Cats", "Birds"]
        wildcard = client.get("/posts", params={"search": "%"}).json()
        assert wildcard["total"] == 0
