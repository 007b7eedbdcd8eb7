from __future__ import annotations

from examples.guide.parameters import app
from trivium.testing import TestClient

client = TestClient(app)
BOOK = {"title": "Orlando", "year": 1928}


def test_sources_are_inferred_from_names_and_types() -> None:
    response = client.put("/shelves/3/books", params={"dry_run": "yes"}, json=BOOK)
    assert response.json() == {"shelf_id": 3, "title": "Orlando", "dry_run": True}


def test_body_errors_are_located_in_the_body() -> None:
    response = client.put("/shelves/3/books", json={"title": "", "year": 1200})
    assert response.status_code == 422
    assert [(e["loc"], e["type"]) for e in response.json()["detail"]] == [
        (["body", "title"], "string_too_short"),
        (["body", "year"], "greater_than_equal"),
    ]


def test_query_parameters() -> None:
    response = client.get("/books", params={"q": "wo", "tag": ["a", "b"], "page-size": 5})
    assert response.json() == {"q": "wo", "tag": ["a", "b"], "sort": "title", "page_size": 5}


def test_query_errors_name_the_alias() -> None:
    response = client.get("/books", params={"sort": "price", "page-size": 0})
    assert [(e["loc"], e["type"]) for e in response.json()["detail"]] == [
        (["query", "sort"], "literal_error"),
        (["query", "page-size"], "greater_than_equal"),
    ]


def test_query_model() -> None:
    response = client.get("/catalogue", params={"author": "Woolf", "language": ["en", "fr"]})
    assert response.json() == {"author": "Woolf", "year_from": 1450, "language": ["en", "fr"]}
    bad = client.get("/catalogue", params={"year_from": 12})
    assert bad.json()["detail"][0]["loc"] == ["query", "year_from"]


def test_path_header_and_cookie() -> None:
    response = client.get(
        "/books/9/reviews", headers={"x-request-id": "abc", "cookie": "theme=dark"}
    )
    assert response.json() == {
        "book_id": 9,
        "agent": "testclient",
        "request_id": "abc",
        "theme": "dark",
    }
    assert client.get("/books/0/reviews").json()["detail"][0]["loc"] == ["path", "book_id"]


def test_several_body_parameters_are_embedded() -> None:
    body = {"review": {"stars": 5}, "reviewer": "ann"}
    response = client.post("/books/1/reviews", json=body)
    assert response.json() == {"book_id": 1, "stars": 5, "reviewer": "ann"}
    missing = client.post("/books/1/reviews", json={"review": {"stars": 9}})
    assert [e["loc"] for e in missing.json()["detail"]] == [
        ["body", "review", "stars"],
        ["body", "reviewer"],
    ]


def test_embedded_single_body() -> None:
    assert client.post("/books/1/cover-note", json={"note": "hi"}).json() == "hi"
    assert client.post("/books/1/cover-note", json="hi").status_code == 422


def test_form_fields() -> None:
    ok = client.post("/login", data={"username": "ann", "password": "correct horse"})
    assert ok.json() == {"username": "ann"}
    short = client.post("/login", data={"username": "ann", "password": "x"})
    assert short.json()["detail"][0]["loc"] == ["body", "password"]


def test_form_endpoint_refuses_json_with_415() -> None:
    response = client.post("/login", json={"username": "ann"})
    assert response.status_code == 415


def test_file_upload() -> None:
    response = client.post(
        "/books/1/scans",
        files={"scan": ("page1.png", b"\x89PNG...", "image/png"), "thumbnail": ("t.png", b"t")},
        data={"caption": "First page"},
    )
    assert response.json() == {
        "filename": "page1.png",
        "content_type": "image/png",
        "size": 7,
        "caption": "First page",
        "thumbnail_size": 1,
    }


def test_missing_file_is_a_422() -> None:
    response = client.post("/books/1/scans", data={"caption": "no file"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "scan"]
