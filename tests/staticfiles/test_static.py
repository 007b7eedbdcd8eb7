"""StaticFiles: serving files with validators, ranges, HEAD, html mode and packages."""

from __future__ import annotations

import gzip
import importlib
import os
from pathlib import Path
from typing import Any

import pytest

from trivium import App
from trivium.errors import ConfigurationError
from trivium.staticfiles import StaticFiles
from trivium.testing import TestClient

CSS = "body { color: red; }\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "app.css").write_text(CSS)
    (root / "data.bin").write_bytes(bytes(range(256)))
    (root / "docs").mkdir()
    (root / "docs" / "index.html").write_text("<h1>docs</h1>")
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "404.html").write_text("<h1>missing</h1>")
    (root / "empty-dir").mkdir()
    return root


def serve(*args: Any, **options: Any) -> TestClient:
    app = App(openapi_url=None)
    app.mount("/static", StaticFiles(*args, **options), name="static")
    return TestClient(app, follow_redirects=False)


def test_serves_a_file_with_type_length_and_validators(site: Path) -> None:
    response = serve(directory=site).get("/static/css/app.css")
    assert response.status_code == 200
    assert response.text == CSS
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["content-length"] == str(len(CSS))
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith("GMT")
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "no-cache"


def test_max_age_sets_cache_control(site: Path) -> None:
    response = serve(directory=site, max_age=3600).get("/static/css/app.css")
    assert response.headers["cache-control"] == "public, max-age=3600"


def test_if_none_match_gives_304(site: Path) -> None:
    client = serve(directory=site)
    etag = client.get("/static/css/app.css").headers["etag"]
    response = client.get("/static/css/app.css", headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""


def test_if_modified_since_gives_304(site: Path) -> None:
    client = serve(directory=site)
    modified = client.get("/static/css/app.css").headers["last-modified"]
    response = client.get("/static/css/app.css", headers={"if-modified-since": modified})
    assert response.status_code == 304


def test_range_request_gives_206(site: Path) -> None:
    response = serve(directory=site).get("/static/data.bin", headers={"range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.content == bytes(range(10, 20))
    assert response.headers["content-range"] == "bytes 10-19/256"


def test_head_sends_headers_only(site: Path) -> None:
    response = serve(directory=site).head("/static/data.bin")
    assert response.status_code == 200
    assert response.headers["content-length"] == "256"
    assert response.content == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_405_with_allow(site: Path, method: str) -> None:
    response = serve(directory=site).request(method, "/static/css/app.css")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize(
    "path", ["/static/nope.css", "/static/css", "/static/css/", "/static", "/static/"]
)
def test_missing_files_and_directories_give_404_json(site: Path, path: str) -> None:
    response = serve(directory=site).get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("app.css.gz", "application/gzip"),
        ("bundle.tar.gz", "application/gzip"),
        ("app.js.br", "application/x-brotli"),
        ("dump.sql.bz2", "application/x-bzip2"),
        ("logs.xz", "application/x-xz"),
    ],
)
def test_a_compressed_file_is_sent_as_what_it_is(site: Path, name: str, media_type: str) -> None:
    packed = gzip.compress(CSS.encode())
    (site / name).write_bytes(packed)
    response = serve(directory=site).get(f"/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert "content-encoding" not in response.headers
    assert response.content == packed


def test_html_mode_serves_index_files(site: Path) -> None:
    client = serve(directory=site, html=True)
    assert client.get("/static/").text == "<h1>home</h1>"
    assert client.get("/static/docs/").text == "<h1>docs</h1>"
    assert client.get("/static/docs/").headers["content-type"] == "text/html; charset=utf-8"


def test_html_mode_redirects_directories_to_trailing_slash(site: Path) -> None:
    client = serve(directory=site, html=True)
    response = client.get("/static/docs")
    assert response.status_code == 308
    assert response.headers["location"] == "/static/docs/"
    assert client.get("/static").headers["location"] == "/static/"
    with_query = client.get("/static/docs?lang=fr&x=%26")
    assert with_query.status_code == 308
    assert with_query.headers["location"] == "/static/docs/?lang=fr&x=%26"


@pytest.mark.parametrize(
    ("name", "request_path", "location"),
    [
        ("q?x", "/static/q%3Fx", "/static/q%3Fx/"),
        ("h#x", "/static/h%23x", "/static/h%23x/"),
        ("pct%41", "/static/pct%2541", "/static/pct%2541/"),
        ("a b", "/static/a%20b", "/static/a%20b/"),
        ("é", "/static/%C3%A9", "/static/%C3%A9/"),
        ("a:b@c", "/static/a:b@c", "/static/a:b@c/"),
    ],
)
def test_html_mode_redirect_quotes_the_directory_name(
    site: Path, name: str, request_path: str, location: str
) -> None:
    (site / name).mkdir()
    (site / name / "index.html").write_text(f"<h1>{name}</h1>")
    (site / "pctA").mkdir()  # where an unquoted `pct%41/` would lead
    (site / "pctA" / "index.html").write_text("<h1>wrong directory</h1>")
    client = serve(directory=site, html=True)
    response = client.get(request_path)
    assert response.status_code == 308
    assert response.headers["location"] == location
    followed = client.get(location)
    assert followed.status_code == 200
    assert followed.text == f"<h1>{name}</h1>"


def test_html_mode_serves_404_page(site: Path) -> None:
    client = serve(directory=site, html=True)
    for path in ("/static/nope", "/static/empty-dir/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.text == "<h1>missing</h1>"


def test_html_mode_index_that_is_a_directory_gives_404(site: Path) -> None:
    (site / "odd" / "index.html").mkdir(parents=True)
    response = serve(directory=site, html=True).get("/static/odd/")
    assert response.status_code == 404
    assert response.text == "<h1>missing</h1>"


def test_special_files_are_not_served(site: Path) -> None:
    os.mkfifo(site / "pipe")
    assert serve(directory=site).get("/static/pipe").status_code == 404


def test_html_mode_without_404_page_gives_json(site: Path) -> None:
    (site / "404.html").unlink()
    response = serve(directory=site, html=True).get("/static/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_missing_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        StaticFiles(directory=tmp_path / "missing")
    assert info.value.code == "static-directory-missing"


def test_check_dir_false_allows_a_directory_created_later(tmp_path: Path) -> None:
    root = tmp_path / "later"
    client = serve(directory=root, check_dir=False)
    assert client.get("/static/a.txt").status_code == 404
    root.mkdir()
    (root / "a.txt").write_text("now")
    assert client.get("/static/a.txt").text == "now"


def test_no_source_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        StaticFiles()
    assert info.value.code == "static-no-source"


def test_negative_max_age_is_a_configuration_error(site: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        StaticFiles(directory=site, max_age=-1)
    assert info.value.code == "static-option"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "trivium_static_test_pkg"
    base = tmp_path / "site-packages" / name
    (base / "static").mkdir(parents=True)
    (base / "assets").mkdir()
    (base / "__init__.py").write_text("")
    (base / "static" / "pkg.js").write_text("console.log('pkg')")
    (base / "static" / "shared.txt").write_text("from package")
    (base / "assets" / "logo.svg").write_text("<svg/>")
    monkeypatch.syspath_prepend(os.fspath(tmp_path / "site-packages"))
    importlib.invalidate_caches()
    return name


def test_serves_package_static_folder(package: str) -> None:
    client = serve(packages=[package])
    response = client.get("/static/pkg.js")
    assert response.text == "console.log('pkg')"
    assert response.headers["content-type"].startswith("text/javascript")


def test_package_with_another_folder(package: str) -> None:
    client = serve(packages=[(package, "assets")])
    assert client.get("/static/logo.svg").text == "<svg/>"
    assert client.get("/static/pkg.js").status_code == 404


def test_directory_is_searched_before_packages(site: Path, package: str) -> None:
    (site / "shared.txt").write_text("from directory")
    client = serve(directory=site, packages=[package])
    assert client.get("/static/shared.txt").text == "from directory"
    assert client.get("/static/pkg.js").status_code == 200


@pytest.mark.parametrize(
    "spec", ["no_such_package_for_trivium", ("json", "static"), "no_such_parent.child"]
)
def test_package_without_static_folder_is_a_configuration_error(spec: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        StaticFiles(packages=[spec])
    assert info.value.code == "static-package-missing"


def test_websocket_to_static_mount_is_closed(site: Path) -> None:
    from trivium.testing import WebSocketRejected

    with pytest.raises(WebSocketRejected):
        with serve(directory=site).websocket_connect("/static/css/app.css"):
            pass
