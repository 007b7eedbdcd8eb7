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
    with TestClient(app) as client:
        yield client


@pytest.fixture
def user(django_wsgi):
    from django.contrib.auth.models import User

    User.objects.filter(username="ann").delete()
    return User.objects.create_user("ann", "ann@example.com", "pw-ann-123")


def test_reverse_and_script_name_include_the_mount_prefix(client):
    body = client.get("/dj/hello/").json()
    assert body["script_name"] == "/dj"
    assert body["path_info"] == "/hello/"
    assert body["reverse"] == "/dj/hello/"
    assert body["absolute"] == "http://testserver/dj/hello/"


def test_common_middleware_slash_redirect_stays_under_the_mount(client):
    response = client.get("/dj/hello", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/dj/hello/"


def test_django_csrf_refuses_a_post_without_token_and_accepts_one_with(client):
    refused = client.post("/dj/form/submit/", data={"name": "x"})
    assert refused.status_code == 403
    token = client.get("/dj/form/").json()["csrf"]
    accepted = client.post(
        "/dj/form/submit/",
        data={"name": "Zoë", "tag": ["a", "b"], "csrfmiddlewaretoken": token},
    )
    assert accepted.status_code == 200
    assert accepted.json() == {"name": "Zoë", "tags": ["a", "b"]}


def test_file_upload_reaches_django(client):
    token = client.get("/dj/form/").json()["csrf"]
    data = b"\x00\xff" * 70_000
    response = client.post(
        "/dj/upload/",
        files={"file": ("blob.bin", data)},
        data={"csrfmiddlewaretoken": token},
    )
    assert response.status_code == 200
    assert response.json() == {"filename": "blob.bin", "size": len(data)}


def test_streaming_response_arrives_complete(client):
    with client.stream("GET", "/dj/download/300/") as response:
        lines = [line for line in response.iter_lines() if line]
    assert len(lines) == 300
    assert lines[-1] == "row 299"


def test_redirect_uses_the_prefixed_path(client):
    response = client.get("/dj/go/", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/dj/hello/?name=redirected"


def test_login_session_survives_between_requests(client, user):
    assert client.get("/dj/whoami/").json() == {"user": None}
    token = client.get("/dj/form/").json()["csrf"]
    wrong = client.post(
        "/dj/login/",
        data={"username": "ann", "password": "nope", "csrfmiddlewaretoken": token},
    )
    assert wrong.status_code == 403
    ok = client.post(
        "/dj/login/",
        data={"username": "ann", "password": "pw-ann-123", "csrfmiddlewaretoken": token},
    )
    assert ok.json() == {"ok": True}
    assert client.get("/dj/whoami/").json() == {"user": "ann"}


def test_django_exception_is_a_500_and_the_app_keeps_serving(client):
    response = client.get("/dj/boom/")
    assert response.status_code == 500
    assert "legacy failure" not in response.text
    assert client.get("/native").json() == {"from": "trivium"}
