from __future__ import annotations

import pytest

from examples.migrate_flask.app import make_app
from trivium.testing import TestClient


@pytest.fixture
def setup(tmp_path):
    app, differences = make_app(tmp_path / "bookmarks.sqlite3")
    with TestClient(app, follow_redirects=False) as client:
        yield client, differences


def test_flask_form_still_posts_and_redirects_to_the_migrated_page(setup):
    client, _ = setup
    response = client.post("/add", data={"title": "Trivium", "url": "https://example.com/"})
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    page = client.get("/")  # trivium's route now, Flask's template
    assert '<a href="https://example.com/">Trivium</a>' in page.text


def test_flask_validation_still_answers(setup):
    client, _ = setup
    assert client.post("/add", data={"title": "x", "url": "javascript:alert(1)"}).status_code == 400


def test_template_escapes_as_in_flask(setup):
    client, _ = setup
    client.post("/add", data={"title": "<script>", "url": "https://a.example/"})
    assert "&lt;script&gt;" in client.get("/").text


def test_new_api_route(setup):
    client, _ = setup
    client.post("/add", data={"title": "A", "url": "https://a.example/"})
    assert client.get("/api/bookmarks").json() == [
        {"id": 1, "title": "A", "url": "https://a.example/"}
    ]


def test_shadowed_route_answers_from_flask_and_agrees(setup):
    client, differences = setup
    client.post("/add", data={"title": "A", "url": "https://a.example/"})
    response = client.get("/bookmarks.json")
    assert response.json() == [{"id": 1, "title": "A", "url": "https://a.example/"}]
    assert differences == []
