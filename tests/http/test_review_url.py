"""`request.url` and the redirects built from it keep the path the client asked for.

The scope's `path` is decoded (`/files/a%3Fb` is `/files/a?b`): pasted into a URL as is,
`?` would start a query, `#` a fragment and `%` an invalid escape. And a `root_path`
the server leaves out of `path` (Granian's `--root-path`) is part of the URL all the same.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests import live

from trivium import App
from trivium import Request
from trivium.middleware import HTTPSRedirectMiddleware
from trivium.middleware import Middleware
from trivium.middleware import TrustedHostMiddleware
from trivium.testing import TestClient

# A name per escape that would change the resource if it were decoded.
CASES = {"/files/a%3Fb": "a?b", "/files/report%23draft": "report#draft", "/files/100%25": "100%"}

app = App()


@app.get("/files/{name}")
async def files(name: str, request: Request) -> dict[str, str]:
    return {"name": name, "url": str(request.url), "path": request.url.path}


@app.get("/items")
async def items(request: Request) -> dict[str, str]:
    return {"url": str(request.url), "url_for": str(request.url_for("items"))}


def raw_get(client: TestClient | httpx.Client, base: str, path: str) -> httpx.Response:
    """GET `path` exactly as written (httpx would otherwise normalise its escapes)."""
    url = httpx.URL(base).copy_with(raw_path=path.encode())
    return client.get(str(url), follow_redirects=False)


@pytest.mark.parametrize(("path", "name"), list(CASES.items()))
def test_request_url_keeps_the_percent_escapes_of_the_path(path: str, name: str) -> None:
    response = raw_get(TestClient(app), "http://testserver", path)
    assert response.json() == {"name": name, "url": f"http://testserver{path}", "path": path}


def test_request_url_quotes_the_path_when_the_server_gives_no_raw_path() -> None:
    plain = App()
    plain.get("/files/{name}")(files)

    async def no_raw_path(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope.pop("raw_path", None)
        await plain(scope, receive, send)

    response = raw_get(TestClient(no_raw_path), "http://testserver", "/files/a%3Fb%20c%25")
    assert response.json()["url"] == "http://testserver/files/a%3Fb%20c%25"


@pytest.mark.parametrize(("path", "name"), list(CASES.items()))
def test_https_redirect_keeps_the_percent_escapes_of_the_path(path: str, name: str) -> None:
    secure = App(middleware=[Middleware(HTTPSRedirectMiddleware)])
    response = raw_get(TestClient(secure), "http://testserver", path + "?x=1")
    assert response.status_code == 308
    assert response.headers["location"] == f"https://testserver{path}?x=1"


@pytest.mark.parametrize(("path", "name"), list(CASES.items()))
def test_www_redirect_keeps_the_percent_escapes_of_the_path(path: str, name: str) -> None:
    hosts = App(middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["www.example.com"])])
    response = raw_get(TestClient(hosts), "http://example.com", path)
    assert response.status_code == 308
    assert response.headers["location"] == f"http://www.example.com{path}"


def test_request_url_adds_a_root_path_the_server_left_out_of_the_path() -> None:
    # App(root_path=...) behind a proxy that strips the prefix: the server's path is
    # /items, as Granian's with --root-path; the URL the client asked for has /api.
    prefixed = App(root_path="/api")
    prefixed.get("/items")(items)
    response = TestClient(prefixed, base_url="http://site").get("/items")
    assert response.json() == {"url": "http://site/api/items", "url_for": "http://site/api/items"}


@pytest.mark.asgi_only("RSGI has no root_path")
def test_request_url_keeps_a_root_path_the_server_put_in_the_path() -> None:
    client = TestClient(app, root_path="/api", base_url="http://site")
    assert client.get("/items").json()["url"] == "http://site/api/items"
    response = raw_get(client, "http://site", "/files/a%3Fb")
    assert response.json()["url"] == "http://site/api/files/a%3Fb"


@pytest.mark.live
@pytest.mark.parametrize(
    ("port", "server"), [(9710, ("--interface", "asgi")), (9711, ("--server", "uvicorn"))]
)
def test_root_path_is_in_request_url_on_every_server(port: int, server: tuple[str, str]) -> None:
    target = "tests.http.test_review_url:app"
    args = (target, "--port", str(port), "--root-path", "/api", *server)
    with live.trivium_run(*args, port=port, ready_path="/items") as running, httpx.Client() as http:
        # What a proxy forwards for http://site/api/files/a%3Fb once it stripped /api.
        base = running.url
        answer = raw_get(http, base, "/items").json()
        assert answer["url"] == f"{base}/api/items"
        answer = raw_get(http, base, "/files/a%3Fb").json()
        assert answer["url"] == f"{base}/api/files/a%3Fb"
