from __future__ import annotations

import pytest

from trivium.testing import TestClient


@pytest.fixture
def client(tmp_path):
    from examples.migrate_django.app import make_app

    with TestClient(make_app(tmp_path / "legacy.sqlite3"), follow_redirects=False) as client:
        yield client


def legacy_note(client: TestClient, title: str) -> int:
    client.get("/notes/new/")
    form = {"title": title, "csrfmiddlewaretoken": client.cookies["csrftoken"]}
    response = client.post("/notes/new/", data=form)
    assert response.status_code == 302
    return int(response.headers["location"].strip("/").split("/")[-1])


def test_django_pages_keep_working_inside_trivium(client):
    assert client.post("/notes/new/", data={"title": "no token"}).status_code == 403
    note_id = legacy_note(client, "from the Django form")
    assert client.get(f"/notes/{note_id}/").json()["title"] == "from the Django form"
    assert client.get("/").json()["new"] == "/notes/new/"


def test_new_api_reads_and_writes_djangos_models(client):
    note_id = legacy_note(client, "legacy note")
    titles = [note["title"] for note in client.get("/api/notes").json()]
    assert "legacy note" in titles
    created = client.post("/api/notes", json={"title": "api note", "body": "hi"})
    assert created.status_code == 201
    # Django's own page shows what trivium wrote.
    assert client.get(f"/notes/{created.json()['id']}/").json()["body"] == "hi"
    assert client.get(f"/notes/{note_id}/").status_code == 200


def test_a_failed_write_is_rolled_back(client):
    assert client.post("/api/notes", json={"title": "twice"}).status_code == 201
    refused = client.post("/api/notes", json={"title": "twice"})
    assert refused.status_code == 409
    titles = [note["title"] for note in client.get("/api/notes").json()]
    assert titles.count("twice") == 1


def test_invalid_api_input_is_a_422(client):
    response = client.post("/api/notes", json={"title": ""})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "title"]


def test_canary_header_sends_the_note_page_to_trivium(client):
    note_id = legacy_note(client, "canary")
    legacy = client.get(f"/notes/{note_id}/")
    migrated = client.get(f"/notes/{note_id}/", headers={"x-trivium": "1"})
    assert legacy.json() == migrated.json()
    assert "application/json" in legacy.headers["content-type"]
    # Django's 404 page vs trivium's JSON 404: who answered shows.
    assert client.get("/notes/999999/").headers["content-type"].startswith("text/html")
    assert client.get("/notes/999999/", headers={"x-trivium": "1"}).json() == {
        "detail": "No such note"
    }


def test_the_canary_route_leaves_djangos_new_note_page_to_django(client):
    # `{note_id:int}` matches digits only: `/notes/new/` is Django's even with the canary
    # header (a plain `{note_id}` would take it and answer 422).
    response = client.get("/notes/new/", headers={"x-trivium": "1"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "csrftoken" in client.cookies
