"""The compat app's FastAPI defaults: Starlette's plain-text 500, `root_path_in_servers`."""

from __future__ import annotations

import pytest

from trivium import App
from trivium.compat.fastapi import APIRouter
from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi.testclient import TestClient


def failing(app: App) -> App:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


def test_an_unexpected_error_is_a_plain_text_500() -> None:
    response = TestClient(failing(FastAPI()), raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "Internal Server Error"


def test_the_error_still_reaches_the_test() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        TestClient(failing(FastAPI())).get("/boom")


def test_trivium_apps_answer_json() -> None:
    response = TestClient(failing(App()), raise_server_exceptions=False).get("/boom")
    assert response.json() == {"detail": "Internal Server Error"}


@pytest.mark.asgi_only("RSGI has no root_path")
def test_root_path_in_servers_false_leaves_the_prefix_out_of_the_document() -> None:
    kept = FastAPI()
    left_out = FastAPI(root_path_in_servers=False)
    for app in (kept, left_out):

        @app.get("/app")
        def read() -> str:
            return "ok"

    prefix = {"root_path": "/api/v1"}
    assert TestClient(kept, **prefix).get("/openapi.json").json()["servers"] == [{"url": "/api/v1"}]
    assert "servers" not in TestClient(left_out, **prefix).get("/openapi.json").json()


def test_a_router_max_body_size_applies_to_its_routes() -> None:
    app = FastAPI(max_body_size=10)
    big = APIRouter(prefix="/big", max_body_size=100)

    @app.post("/small")
    def small(item: dict[str, str]) -> int:
        return len(item)

    @big.post("/")
    def roomy(item: dict[str, str]) -> int:
        return len(item)

    @big.post("/tight", max_body_size=5)
    def tight(item: dict[str, str]) -> int:
        return len(item)

    app.include_router(big)
    client = TestClient(app)
    body = {"name": "a fairly long value"}
    assert client.post("/small", json=body).status_code == 413
    assert client.post("/big/", json=body).json() == 1
    assert client.post("/big/tight", json=body).status_code == 413
