"""A real Django project (examples/migrate_django/legacy) mounted under /dj."""

from __future__ import annotations

import pytest

from trivium import App
from trivium.interop import WSGIApp
from trivium.testing import TestClient


@pytest.fixture
def client(django_wsgi):
    handler, _ = django_wsgi
    app = App()

    @app.get("/native")
    async def native() -> dict[str, str]:
        return {"from": "trivium"}

    app.mount("/dj", WSGIApp(handler, workers=2))
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def ann(django_wsgi):
    from django.contrib.auth.models import User

    User.objects.filter(username="ann").delete()
    return User.objects.create_user("ann", "ann@example.com", "pw-ann-123")


def csrf(client: TestClient) -> str:
    client.get("/dj/notes/new/")
    return client.cookies["csrftoken"]


def new_note(client: TestClient, title: str) -> str:
    response = client.post(
        "/dj/notes/new/", data={"title": title, "body": "b", "csrfmiddlewaretoken": csrf(client)}
    )
    assert response.status_code == 302
    return response.headers["location"]


def test_reverse_and_script_name_include_the_mount_prefix(client):
    body = client.get("/dj/").json()
    assert body["script_name"] == "/dj"
    assert body["path_info"] == "/"
    assert body["new"] == "/dj/notes/new/"
    assert body["absolute"] == "http://testserver/dj/"


def test_common_middleware_slash_redirect_stays_under_the_mount(client):
    response = client.get("/dj/notes/new")
    assert response.status_code == 301
    assert response.headers["location"] == "/dj/notes/new/"


def test_django_csrf_refuses_a_form_without_token(client):
    assert client.post("/dj/notes/new/", data={"title": "x"}).status_code == 403


def test_form_post_redirects_to_the_prefixed_detail_page(client):
    location = new_note(client, "Zoë's note")
    assert location.startswith("/dj/notes/")
    assert client.get(location).json()["title"] == "Zoë's note"
    assert client.get("/native").json() == {"from": "trivium"}


def test_file_upload_reaches_django(client):
    location = new_note(client, "with file")
    data = b"\x00\xff" * 70_000
    response = client.post(
        location + "attachment/",
        files={"file": ("blob.bin", data)},
        data={"csrfmiddlewaretoken": client.cookies["csrftoken"]},
    )
    assert response.status_code == 200
    assert response.json() == {"name": "blob.bin", "size": len(data)}


def test_streaming_export_arrives_complete(client):
    for n in range(3):
        new_note(client, f"row-{n}")
    with client.stream("GET", "/dj/notes/export.csv") as response:
        assert response.headers["content-type"] == "text/csv"
        lines = [line for line in response.iter_lines() if line]
    assert lines[0] == "id,title"
    assert {"row-0", "row-1", "row-2"} <= {line.split(",", 1)[1] for line in lines[1:]}


def test_login_session_survives_between_requests(client, ann):
    assert client.get("/dj/whoami/").json() == {"user": None}
    token = csrf(client)
    wrong = {"username": "ann", "password": "nope", "csrfmiddlewaretoken": token}
    assert client.post("/dj/login/", data=wrong).status_code == 403
    right = {"username": "ann", "password": "pw-ann-123", "csrfmiddlewaretoken": token}
    assert client.post("/dj/login/", data=right).json() == {"ok": True}
    assert client.get("/dj/whoami/").json() == {"user": "ann"}


def test_unknown_note_is_djangos_404(client):
    assert client.get("/dj/notes/999999/").status_code == 404
