"""StaticFiles never serves anything outside its roots, however the path is spelled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from trivium import App
from trivium.staticfiles import StaticFiles
from trivium.testing import TestClient
from trivium.types import Message

SECRET = "top secret"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "secret").write_text(SECRET)
    (tmp_path / "secret.txt").write_text(SECRET)
    static = tmp_path / "static"
    (static / "sub").mkdir(parents=True)
    (static / "ok.txt").write_text("public")
    (static / "sub" / "inner.txt").write_text("inner")
    (static / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (static / "escape-dir").symlink_to(tmp_path)
    (static / "alias.txt").symlink_to(static / "ok.txt")
    return static


def make_app(root: Path, **options: Any) -> App:
    app = App(openapi_url=None)
    app.mount("/static", StaticFiles(directory=root, **options), name="static")
    return app


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/static/%2e%2e/secret", 404),
        ("/static/%2e%2e%2fsecret", 404),
        ("/static/%2E%2E%2Fsecret.txt", 404),
        ("/static/sub/%2e%2e/%2e%2e/secret", 404),
        ("/static/..%2fsecret", 404),
        ("/static/..%5csecret", 404),
        ("/static/%5c..%5csecret", 404),
        ("/static/sub%5c..%5c..%5csecret", 404),
        ("/static/ok.txt%00.png", 400),
        ("/static/%00", 400),
        ("/static//etc/passwd", 404),
        ("/static/%2fetc%2fpasswd", 404),
        ("/static/escape.txt", 404),
        ("/static/escape-dir/secret.txt", 404),
        ("/static/" + "a" * 5000, 404),
    ],
)
def test_traversal_attempts_are_refused_over_http(root: Path, url: str, status: int) -> None:
    response = TestClient(make_app(root)).get(url)
    assert response.status_code == status
    assert SECRET not in response.text
    assert response.headers["content-type"] == "application/json"


async def raw_get(app: App, path: str) -> tuple[int, bytes]:
    """Send a path exactly as given (as `curl --path-as-is` would), bypassing URL normalisation."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "state": {},
    }
    sent: list[Message] = []
    requests = [{"type": "http.request", "body": b""}]

    async def receive() -> Message:
        if requests:
            return requests.pop()
        await anyio.sleep_forever()
        raise AssertionError  # pragma: no cover

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/static/../secret", 404),
        ("/static/sub/../../secret.txt", 404),
        ("/static/./../secret", 404),
        ("/static/..", 404),
        ("/static/..\\secret", 404),
        ("/static/C:\\Windows\\win.ini", 404),
        ("/static/ok.txt\x00", 400),
        ("/static/\udcff", 404),
    ],
)
async def test_raw_traversal_paths_are_refused(root: Path, path: str, status: int) -> None:
    got, body = await raw_get(make_app(root), path)
    assert got == status
    assert SECRET.encode() not in body


@pytest.mark.anyio
async def test_dot_segments_inside_the_root_are_harmless(root: Path) -> None:
    assert await raw_get(make_app(root), "/static/./sub/./inner.txt") == (200, b"inner")


def test_symlink_inside_the_root_is_served(root: Path) -> None:
    response = TestClient(make_app(root)).get("/static/alias.txt")
    assert response.text == "public"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_follow_symlink_allows_links_leaving_the_root(root: Path) -> None:
    client = TestClient(make_app(root, follow_symlink=True))
    assert client.get("/static/escape.txt").text == SECRET
    assert client.get("/static/escape-dir/secret.txt").text == SECRET
    assert client.get("/static/%2e%2e/secret").status_code == 404


def test_root_reached_through_a_symlink_still_serves(root: Path, tmp_path: Path) -> None:
    link = tmp_path / "link-to-static"
    link.symlink_to(root)
    client = TestClient(make_app(link))
    assert client.get("/static/ok.txt").text == "public"
    assert client.get("/static/escape.txt").status_code == 404


def test_server_keeps_serving_after_bad_requests(root: Path) -> None:
    client = TestClient(make_app(root))
    for url in ("/static/%2e%2e/secret", "/static/%00", "/static/..%5csecret"):
        assert client.get(url).status_code in (400, 404)
    assert client.get("/static/ok.txt").text == "public"
