from __future__ import annotations

import re

import pytest
from tests.interop.flask_legacy import create_app

from trivium import App
from trivium.interop import WSGIApp
from trivium.testing import TestClient


@pytest.fixture
def client():
    app = App()

    @app.get("/native")
    async def native() -> dict[str, str]:
        return {"from": "trivium"}

    app.mount("/legacy", WSGIApp(create_app(), workers=2))
    with TestClient(app) as client:
        yield client


def test_trivium_and_flask_routes_share_the_app(client):
    assert client.get("/native").json() == {"from": "trivium"}
    assert client.get("/legacy/hello?name=ann").json()["hello"] == "ann"


def test_script_name_and_url_for_include_the_mount_prefix(client):
    body = client.get("/legacy/hello").json()
    assert body["script_name"] == "/legacy"
    assert body["path_info"] == "/hello"
    assert body["self"] == "/legacy/hello"
    assert body["external"] == "http://testserver/legacy/hello"


def test_form_fields_reach_flask(client):
    response = client.post("/legacy/form", data={"name": "Zoë", "tag": ["a", "b"]})
    assert response.status_code == 200
    assert response.json() == {"name": "Zoë", "tags": ["a", "b"]}


def test_file_upload_is_read_by_flask(client):
    data = bytes(range(256)) * 1000
    response = client.post(
        "/legacy/upload", files={"file": ("blob.bin", data)}, data={"note": "hi"}
    )
    assert response.json() == {"filename": "blob.bin", "size": len(data), "note": "hi"}


def test_request_body_arrives_in_pieces_not_whole(client):
    def chunks():
        for _ in range(20):
            yield b"x" * 10_000

    response = client.post("/legacy/echo-stream", content=chunks())
    assert response.json()["bytes"] == 200_000
    assert response.json()["pieces"] >= 20


def test_streamed_download_arrives_complete(client):
    with client.stream("GET", "/legacy/download/500") as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line]
    assert lines[0] == "row 0"
    assert lines[-1] == "row 499"
    assert len(lines) == 500


def test_flask_redirect_points_under_the_mount(client):
    response = client.get("/legacy/go", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/legacy/hello?name=redirected"
    assert client.get("/legacy/go").json()["hello"] == "redirected"


def test_flask_session_cookie_round_trips(client):
    assert client.get("/legacy/whoami").json() == {"user": None}
    client.post("/legacy/login", data={"user": "ann"})
    cookie = client.cookies.jar
    assert any(c.name == "session" and c.path in ("/legacy", "/") for c in cookie)
    assert client.get("/legacy/whoami").json() == {"user": "ann"}


def test_flask_exception_is_a_500_and_the_app_keeps_serving(client):
    response = client.get("/legacy/boom")
    assert response.status_code == 500
    assert client.get("/native").json() == {"from": "trivium"}
    assert client.get("/legacy/hello").status_code == 200


def test_flask_404_is_flasks_own(client):
    response = client.get("/legacy/missing")
    assert response.status_code == 404
    assert "Not Found" in response.text


def test_raw_wsgi_exception_is_answered_500_by_the_bridge():
    def broken(environ, start_response):
        raise ValueError("no")

    app = App()
    app.mount("/raw", WSGIApp(broken))
    with TestClient(app) as client:
        response = client.get("/raw/x")
        assert response.status_code == 500
        assert response.text == "Internal Server Error"
        assert "ValueError" not in response.text


def test_flask_csrf_protects_the_legacy_forms():
    app = App()
    app.mount("/legacy", WSGIApp(create_app(csrf=True)))
    with TestClient(app) as client:
        refused = client.post("/legacy/form", data={"name": "x"})
        assert refused.status_code == 400
        assert "CSRF" in refused.text
        token = client.get("/legacy/csrf-token").json()["token"]
        accepted = client.post("/legacy/form", data={"name": "x", "csrf_token": token})
        assert accepted.status_code == 200
        assert accepted.json()["name"] == "x"
        assert re.fullmatch(r"[\w.-]+", token)


def _proxied_app() -> App:
    from trivium.middleware import ProxyHeadersMiddleware

    app = App()
    app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=["10.0.0.1"], forwarded_host=True)
    app.mount("/legacy", WSGIApp(create_app(), workers=2))
    return app


FORWARDED = {
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "shop.example.com",
}


def test_proxy_headers_from_a_trusted_proxy_reach_the_legacy_app():
    with TestClient(_proxied_app(), client=("10.0.0.1", 40000)) as client:
        seen = client.get("/legacy/peer", headers=FORWARDED).json()
    assert seen == {
        "remote_addr": "203.0.113.7",
        "scheme": "https",
        "host": "shop.example.com",
        "external": "https://shop.example.com/legacy/peer",
    }


def test_proxy_headers_from_anyone_else_are_ignored():
    with TestClient(_proxied_app(), client=("192.0.2.9", 40000)) as client:
        seen = client.get("/legacy/peer", headers=FORWARDED).json()
    assert seen == {
        "remote_addr": "192.0.2.9",
        "scheme": "http",
        "host": "testserver",
        "external": "http://testserver/legacy/peer",
    }
