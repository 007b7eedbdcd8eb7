from __future__ import annotations

import re

from examples.forms.app import ARTICLES
from examples.forms.app import app
from trivium.testing import TestClient


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def new_client() -> tuple[TestClient, str]:
    client = TestClient(app)
    page = client.get("/articles/new")
    assert page.status_code == 200
    return client, csrf_token(page.text)


def test_new_article_page_draws_the_form() -> None:
    page = TestClient(app).get("/articles/new").text
    assert 'enctype="multipart/form-data"' in page  # the cover upload
    assert '<label for="id_title">Title <abbr title="required">*</abbr></label>' in page
    assert (
        '<textarea name="body" id="id_body" required aria-describedby="id_body-help" rows="6">'
        in page
    )
    assert '<small class="help" id="id_body-help">Plain text, no HTML.</small>' in page
    assert (
        '<select name="category" id="id_category">\n<option value="news" selected>News</option>'
        in page
    )
    assert '<input type="checkbox" name="tags" value="web">' in page
    assert '<input type="date" name="publish_on" id="id_publish_on">' in page
    assert '<input type="file" name="cover" id="id_cover">' in page


def test_invalid_article_is_redisplayed_with_errors_and_values() -> None:
    client, token = new_client()
    response = client.post(
        "/articles/new",
        data={"title": "Hi", "body": "<b>draft</b>", "tags": ["web", "async"], "csrf_token": token},
    )
    assert response.status_code == 422
    assert "<li>String should have at least 3 characters.</li>" in response.text
    assert 'value="Hi"' in response.text
    assert "&lt;b&gt;draft&lt;/b&gt;</textarea>" in response.text
    assert '<input type="checkbox" name="tags" value="web" checked>' in response.text
    assert '<input type="checkbox" name="tags" value="async" checked>' in response.text
    assert csrf_token(response.text)  # the form can be sent again


def test_valid_article_redirects_and_flashes() -> None:
    client, token = new_client()
    response = client.post(
        "/articles/new",
        data={"title": "Forms in trivium", "body": "They bind.", "csrf_token": token},
        files={"cover": ("cover.png", b"\x89PNG...", "image/png")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("/")
    home = client.get("/")
    assert '<p class="flash success">Published “Forms in trivium”.</p>' in home.text
    article = ARTICLES[max(ARTICLES)]
    assert article["cover"] == "cover.png (7 bytes)"
    assert article["featured"] is False  # the checkbox was left unticked


def test_edit_page_shows_the_stored_article_and_saves_changes() -> None:
    client, token = new_client()
    client.post(
        "/articles/new",
        data={"title": "Old title", "body": "Text", "featured": "on", "csrf_token": token},
    )
    article_id = max(ARTICLES)
    page = client.get(f"/articles/{article_id}/edit")
    assert 'value="Old title"' in page.text
    assert 'name="featured" id="id_featured" value="true" checked>' in page.text
    response = client.post(
        f"/articles/{article_id}/edit",
        data={"title": "New title", "body": "Text", "csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert ARTICLES[article_id]["title"] == "New title"
    assert ARTICLES[article_id]["featured"] is False


def test_a_check_after_validation_shows_as_a_field_error() -> None:
    client, token = new_client()
    client.post("/articles/new", data={"title": "Draft", "body": "x", "csrf_token": token})
    response = client.post(
        f"/articles/{max(ARTICLES)}/edit",
        data={"title": "Untitled", "body": "x", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "<li>Give the article a real title.</li>" in response.text


def test_posting_without_the_csrf_token_is_refused() -> None:
    client, _ = new_client()
    assert client.post("/articles/new", data={"title": "Sneaky", "body": "x"}).status_code == 403


def test_editing_a_missing_article_is_a_404() -> None:
    assert TestClient(app).get("/articles/999/edit").status_code == 404
