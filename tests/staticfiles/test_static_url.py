"""Content-hashed static URLs: `StaticFiles.url_for`, `static_url` and far-future caching."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from trivium import App
from trivium import Request
from trivium.routing import NoMatchFound
from trivium.staticfiles import StaticFiles
from trivium.staticfiles import static_url
from trivium.testing import TestClient

CSS = b"body { color: red; }\n"
VERSION = hashlib.sha256(CSS).hexdigest()[:12]
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "app.css").write_bytes(CSS)
    (static / "my file.txt").write_text("spaces")
    return static


def make_app(root: Path) -> tuple[App, StaticFiles]:
    app = App(openapi_url=None)
    static = StaticFiles(directory=root)
    app.mount("/static", static, name="static")

    @app.get("/page")
    async def page(request: Request) -> dict[str, str]:
        return {"css": static_url(request, "css/app.css")}

    return app, static


def test_app_url_path_for_a_named_mount(root: Path) -> None:
    app, _ = make_app(root)
    assert app.url_path_for("static", path="css/app.css") == "/static/css/app.css"


def test_url_for_appends_the_content_hash(root: Path) -> None:
    _, static = make_app(root)
    assert static.url_for("css/app.css") == f"/css/app.css?v={VERSION}"
    assert static.url_for("/css/app.css") == f"/css/app.css?v={VERSION}"
    assert static.url_for("missing.css") == "/missing.css"
    assert static.url_for("../secret") == "/../secret"


def test_static_url_from_app_and_request(root: Path) -> None:
    app, _ = make_app(root)
    assert static_url(app, "css/app.css") == f"/static/css/app.css?v={VERSION}"
    response = TestClient(app).get("/page")
    assert response.json() == {"css": f"/static/css/app.css?v={VERSION}"}


def test_static_url_quotes_the_path(root: Path) -> None:
    app, _ = make_app(root)
    url = static_url(app, "my file.txt")
    assert url.startswith("/static/my%20file.txt?v=")
    assert TestClient(app).get(url).text == "spaces"


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("q?x.txt", "q%3Fx.txt"), ("h#x.txt", "h%23x.txt"), ("pct%41.txt", "pct%2541.txt")],
)
def test_static_url_quotes_query_fragment_and_percent_signs(
    root: Path, name: str, quoted: str
) -> None:
    (root / name).write_text(name)
    app, static = make_app(root)
    url = static_url(app, name)
    assert url.startswith(f"/static/{quoted}?v=")
    assert static.url_for(name).startswith(f"/{quoted}?v=")
    assert TestClient(app).get(url).text == name


def test_static_url_for_a_missing_file_has_no_version(root: Path) -> None:
    app, _ = make_app(root)
    assert static_url(app, "nope.js") == "/static/nope.js"


def test_static_url_for_a_mount_that_is_not_static_files_has_no_version(root: Path) -> None:
    app = App(openapi_url=None)
    app.mount("/files", App(openapi_url=None), name="files")
    assert static_url(app, "css/app.css", name="files") == "/files/css/app.css"


def test_other_query_parameters_are_not_a_version(root: Path) -> None:
    app, _ = make_app(root)
    response = TestClient(app).get(f"/static/css/app.css?nv={VERSION}")
    assert response.headers["cache-control"] == "no-cache"


def test_static_url_for_an_unknown_mount_raises(root: Path) -> None:
    app, _ = make_app(root)
    with pytest.raises(NoMatchFound):
        static_url(app, "css/app.css", name="assets")


@pytest.mark.asgi_only("RSGI has no root_path")
def test_static_url_includes_the_root_path(root: Path) -> None:
    app, _ = make_app(root)
    response = TestClient(app, root_path="/prefix").get("/page")
    assert response.json() == {"css": f"/prefix/static/css/app.css?v={VERSION}"}


def test_static_url_reaches_into_a_mounted_app(root: Path) -> None:
    inner = App(openapi_url=None)
    inner.mount("/static", StaticFiles(directory=root), name="static")
    outer = App(openapi_url=None)
    outer.mount("/admin", inner, name="admin")
    assert static_url(outer, "css/app.css", name="admin:static") == (
        f"/admin/static/css/app.css?v={VERSION}"
    )
    assert TestClient(outer).get(f"/admin/static/css/app.css?v={VERSION}").content == CSS


def test_matching_version_gets_far_future_cache(root: Path) -> None:
    app, _ = make_app(root)
    client = TestClient(app)
    assert client.get(f"/static/css/app.css?v={VERSION}").headers["cache-control"] == IMMUTABLE
    assert client.get("/static/css/app.css?v=stale").headers["cache-control"] == "no-cache"
    assert client.get("/static/css/app.css?x=1").headers["cache-control"] == "no-cache"
    assert client.get("/static/css/app.css").headers["cache-control"] == "no-cache"


def test_hash_is_recomputed_when_the_file_changes(root: Path) -> None:
    app, static = make_app(root)
    file = root / "css" / "app.css"
    assert static.url_for("css/app.css").endswith(VERSION)
    file.write_bytes(b"body { color: blue; }\n")
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    new = hashlib.sha256(b"body { color: blue; }\n").hexdigest()[:12]
    assert static.url_for("css/app.css") == f"/css/app.css?v={new}"
    client = TestClient(app)
    assert client.get(f"/static/css/app.css?v={VERSION}").headers["cache-control"] == "no-cache"
    assert client.get(f"/static/css/app.css?v={new}").headers["cache-control"] == IMMUTABLE


def test_hash_is_cached_while_the_file_is_unchanged(root: Path) -> None:
    _, static = make_app(root)
    file = root / "css" / "app.css"
    assert static.url_for("css/app.css").endswith(VERSION)
    stat = file.stat()
    # Same size and modification time: the cached digest is trusted, the file not re-read.
    file.write_bytes(CSS.replace(b"red", b"tan"))
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert static.url_for("css/app.css").endswith(VERSION)


def test_files_are_served_behind_the_apps_root_path(root: Path) -> None:
    # `App(root_path=...)` (`trivium run --root-path`): the path the server gives leaves
    # the prefix out; the files must still be found (they answered 404).
    app = App(openapi_url=None, root_path="/prefix")
    app.mount("/static", StaticFiles(directory=root), name="static")
    client = TestClient(app)
    assert client.get("/static/css/app.css").content == CSS
    assert client.get("/static/css/missing.css").status_code == 404
