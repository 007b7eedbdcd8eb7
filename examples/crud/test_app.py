from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.crud.app import create_app
from trivium.testing import TestClient

EDITOR = {"x-key": "editor"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(f"sqlite+aiosqlite:///{tmp_path / 'blog.db'}")) as client:
        yield client


def add_author(client: TestClient, email: str = "ada@example.com") -> int:
    response = client.post("/authors", json={"name": "Ada", "email": email})
    assert response.status_code == 201
    return int(response.json()["id"])


def add_article(client: TestClient, author: int, title: str, slug: str) -> dict[str, object]:
    payload = {"title": title, "slug": slug, "author_id": author, "body": f"About {title}"}
    response = client.post("/articles", json=payload, headers=EDITOR)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_create_then_read_an_article(client: TestClient) -> None:
    author = add_author(client)
    article = add_article(client, author, "Hello", "hello")
    assert article["published"] is False
    assert "editor_notes" not in article
    assert client.get(f"/articles/{article['id']}").json() == article


def test_writes_need_the_editor_key(client: TestClient) -> None:
    author = add_author(client)
    response = client.post("/articles", json={"title": "t", "slug": "t", "author_id": author})
    assert response.status_code == 403
    assert response.json() == {"detail": "editors only"}
    assert client.get("/articles").status_code == 200


def test_list_is_newest_first_filtered_and_searchable(client: TestClient) -> None:
    author = add_author(client)
    for title in ("First post", "Second post", "Third"):
        add_article(client, author, title, title.lower().replace(" ", "-"))
    page = client.get("/articles").json()
    assert [a["title"] for a in page["items"]] == ["Third", "Second post", "First post"]
    found = client.get("/articles", params={"search": "POST", "ordering": "title"}).json()
    assert [a["title"] for a in found["items"]] == ["First post", "Second post"]
    assert client.get("/articles", params={"title__icontains": "thi"}).json()["total"] == 1
    assert client.get("/articles", params={"ordering": "body"}).status_code == 422


def test_patch_changes_only_what_is_sent(client: TestClient) -> None:
    article = add_article(client, add_author(client), "Draft", "draft")
    response = client.patch(f"/articles/{article['id']}", json={"title": "Final"}, headers=EDITOR)
    assert response.json()["title"] == "Final"
    assert response.json()["body"] == "About Draft"


def test_read_only_and_excluded_fields_are_rejected(client: TestClient) -> None:
    article = add_article(client, add_author(client), "Draft", "draft")
    for field in ("published", "editor_notes", "id"):
        response = client.patch(f"/articles/{article['id']}", json={field: True}, headers=EDITOR)
        assert response.status_code == 422


def test_conflicts_are_409s(client: TestClient) -> None:
    author = add_author(client)
    add_article(client, author, "Hello", "hello")
    duplicate = {"title": "Again", "slug": "hello", "author_id": author}
    response = client.post("/articles", json=duplicate, headers=EDITOR)
    assert response.status_code == 409
    assert response.json() == {"detail": "an article with this slug already exists"}
    orphan = {"title": "Orphan", "slug": "orphan", "author_id": 404}
    response = client.post("/articles", json=orphan, headers=EDITOR)
    assert response.json() == {"detail": "author_id refers to a missing author"}
    response = client.delete(f"/authors/{author}")
    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"Author {author} is still referenced")


def test_delete_then_404(client: TestClient) -> None:
    article = add_article(client, add_author(client), "Gone", "gone")
    assert client.delete(f"/articles/{article['id']}", headers=EDITOR).status_code == 204
    response = client.get(f"/articles/{article['id']}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"Article {article['id']} not found"}


def test_openapi_lists_the_generated_schemas(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("ArticleCreate", "ArticleRead", "ArticleUpdate", "ArticlePage", "AuthorCreate"):
        assert name in schemas
    assert "published" not in schemas["ArticleCreate"]["properties"]


def test_filter_by_creation_time(client: TestClient) -> None:
    add_article(client, add_author(client), "Hello", "hello")
    since = client.get("/articles", params={"created_at__gte": "2000-01-01T00:00:00Z"})
    assert since.json()["total"] == 1
    future = client.get("/articles", params={"created_at__gte": "2999-01-01T00:00:00+02:00"})
    assert future.json()["total"] == 0
    assert client.get("/articles", params={"created_at__gte": "soon"}).status_code == 422


def test_a_write_based_on_a_stale_read_is_a_412(client: TestClient) -> None:
    article = add_article(client, add_author(client), "Draft", "draft")
    url = f"/articles/{article['id']}"
    tag = client.get(url).headers["etag"]
    first = client.patch(url, json={"title": "Mine"}, headers={**EDITOR, "if-match": tag})
    assert first.status_code == 200
    second = client.patch(url, json={"title": "Theirs"}, headers={**EDITOR, "if-match": tag})
    assert second.status_code == 412
    assert client.get(url).json()["title"] == "Mine"
