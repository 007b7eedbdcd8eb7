from __future__ import annotations

import re

from examples.templates.app import NOTES
from examples.templates.app import app
from trivium.testing import TestClient

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def csrf_token(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert found is not None
    return found.group(1)


def test_home_lists_the_notes_escaped() -> None:
    response = TestClient(app).get("/")
    assert response.status_code == 200
    assert '<a href="/notes/2">Call &lt;Ada&gt;</a>' in response.text
    assert re.search(r'href="/static/notes\.css\?v=[0-9a-f]{12}"', response.text)


def test_the_script_carries_the_csp_nonce() -> None:
    response = TestClient(app).get("/")
    nonce = re.search(r'<script nonce="([^"]+)">', response.text)
    assert nonce is not None
    assert f"'nonce-{nonce.group(1)}'" in response.headers["content-security-policy"]


def test_adding_a_note_flashes_once_after_the_redirect() -> None:
    client = TestClient(app)
    response = client.post(
        "/notes", data={"text": "Water plants", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 200
    assert response.url.path == "/"
    assert '<p class="flash success">Added “Water plants”.</p>' in response.text
    assert "Water plants</a>" in response.text
    assert "flash" not in client.get("/").text
    NOTES.pop(max(NOTES))


def test_an_empty_note_flashes_an_error() -> None:
    client = TestClient(app)
    response = client.post("/notes", data={"text": "  ", "csrf_token": csrf_token(client)})
    assert '<p class="flash error">A note needs some text.</p>' in response.text


def test_a_post_without_the_csrf_token_is_refused() -> None:
    client = TestClient(app)
    csrf_token(client)  # the visit starts a session: its cookie now needs the token
    response = client.post("/notes", data={"text": "x"})
    assert response.status_code == 403


def test_the_partial_is_only_the_list() -> None:
    response = TestClient(app).get("/notes/list")
    assert response.text.strip().startswith("<ul>")
    assert "<html" not in response.text


def test_a_sync_handler_renders_a_note() -> None:
    response = TestClient(app).get("/notes/1")
    assert "<title>Note 1</title>" in response.text
    assert "<p>Buy milk</p>" in response.text


def test_browsers_get_the_apps_404_page_and_apis_json() -> None:
    client = TestClient(app)
    page = client.get("/notes/99", headers=BROWSER)
    assert page.status_code == 404
    assert "<h1>Nothing here</h1>" in page.text
    assert "There is no note 99." in page.text
    api = client.get("/notes/99")
    assert (api.status_code, api.json()) == (404, {"detail": "There is no note 99."})


def test_403_uses_the_shipped_page() -> None:
    page = TestClient(app).get("/admin", headers=BROWSER)
    assert page.status_code == 403
    assert "You do not have permission to see this page." in page.text
