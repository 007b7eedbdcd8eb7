"""The compat StaticFiles redirects a directory URL as Starlette does: 307, absolute URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi.staticfiles import StaticFiles as FastAPIStaticFiles
from trivium.compat.fastapi.testclient import TestClient
from trivium.compat.starlette.staticfiles import StaticFiles as StarletteStaticFiles


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("home")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.html").write_text("docs")
    (tmp_path / "empty").mkdir()
    return tmp_path


def _client(
    site: Path, static_files: type[StarletteStaticFiles] = FastAPIStaticFiles
) -> TestClient:
    app = FastAPI()
    app.mount("/site", static_files(directory=site, html=True))
    return TestClient(app)


@pytest.mark.parametrize("static_files", [FastAPIStaticFiles, StarletteStaticFiles])
def test_a_directory_url_redirects_with_307_to_an_absolute_url(
    site: Path, static_files: type[StarletteStaticFiles]
) -> None:
    response = _client(site, static_files).get("/site", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/site/"


def test_the_redirect_keeps_the_query_string_and_subdirectory(site: Path) -> None:
    response = _client(site).get("/site/docs?page=2", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/site/docs/?page=2"


def test_the_redirect_leads_to_the_index(site: Path) -> None:
    response = _client(site).get("/site/docs")
    assert response.status_code == 200
    assert response.text == "docs"


def test_a_directory_without_index_is_not_found_rather_than_redirected(site: Path) -> None:
    response = _client(site).get("/site/empty", follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers
