"""Parameterless handlers served over RSGI without an ASGI scope (the direct path).

Every test here forces the RSGI transport, so both `make test` passes check the direct
path and its hand-overs to the general one: errors, streamed responses, background
work, header overrides, dependency overrides added after start-up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import pytest
from pydantic import BaseModel

from trivium import App
from trivium import BackgroundTasks
from trivium import Cookie
from trivium import Depends
from trivium import Header
from trivium import HTTPException
from trivium import Query
from trivium.responses import PlainTextResponse
from trivium.responses import Response
from trivium.responses import StreamingResponse
from trivium.testing import TestClient
from trivium.testing._client import INTERFACE_ENV


@pytest.fixture(autouse=True)
def _rsgi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(INTERFACE_ENV, "rsgi")


def make_app() -> tuple[App, list[str]]:
    app = App()
    done: list[str] = []

    @app.get("/text")
    async def text() -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    @app.get("/json")
    async def json_message() -> dict[str, str]:
        return {"message": "hi"}

    @app.get("/missing")
    async def missing() -> dict[str, str]:
        raise HTTPException(404, "no such thing")

    @app.get("/broken")
    async def broken() -> dict[str, str]:
        raise RuntimeError("boom")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"one,"
            yield b"two"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/later")
    async def later() -> Response:
        tasks = BackgroundTasks()
        tasks.add_task(done.append, "ran")
        return Response("queued", background=tasks)

    @app.get("/framed")
    async def framed() -> Response:
        return Response("<p>ok</p>", headers={"x-frame-options": "SAMEORIGIN"})

    @app.get("/cookie")
    async def cookie() -> Response:
        response = Response("set")
        response.set_cookie("flavour", "oat")
        return response

    return app, done


def test_plain_and_json_answers_carry_the_default_headers() -> None:
    app, _ = make_app()
    with TestClient(app) as client:
        for _ in range(3):  # the header list is cached after the first answer
            response = client.get("/text")
            assert response.status_code == 200
            assert response.text == "Hello, World!"
            assert response.headers["content-type"] == "text/plain; charset=utf-8"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-frame-options"] == "DENY"
        assert client.get("/json").json() == {"message": "hi"}


def test_head_sends_headers_without_body() -> None:
    app, _ = make_app()
    with TestClient(app) as client:
        response = client.head("/text")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "13"


def test_errors_raised_by_the_handler_become_answers() -> None:
    app, _ = make_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        missing = client.get("/missing")
        broken = client.get("/broken")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no such thing"}
    assert missing.headers["x-content-type-options"] == "nosniff"
    assert broken.status_code == 500
    assert "boom" not in broken.text


def test_streamed_responses_and_background_work_take_the_general_path() -> None:
    app, done = make_app()
    with TestClient(app) as client:
        assert client.get("/stream").text == "one,two"
        assert client.get("/later").text == "queued"
    assert done == ["ran"]


def test_a_header_set_by_the_handler_wins_over_the_default_every_time() -> None:
    app, _ = make_app()
    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/framed").headers["x-frame-options"] == "SAMEORIGIN"
            assert client.get("/text").headers["x-frame-options"] == "DENY"
        first = client.get("/cookie")
        assert first.headers["set-cookie"].startswith("flavour=oat")


def test_unknown_paths_and_methods_still_answer_404_and_405() -> None:
    app, _ = make_app()
    with TestClient(app) as client:
        assert client.get("/nope").status_code == 404
        refused = client.post("/text")
        assert refused.status_code == 405
        assert "GET" in refused.headers["allow"]
        assert client.options("/text").status_code == 204


def test_dependency_overrides_added_while_serving_are_followed() -> None:
    app = App()

    def greeting() -> str:
        return "hello"

    @app.get("/plain")
    async def plain() -> dict[str, str]:
        return {"kind": "plain"}

    @app.get("/greet")
    async def greet(word: str = Depends(greeting)) -> dict[str, str]:
        return {"word": word}

    with TestClient(app) as client:
        assert client.get("/plain").json() == {"kind": "plain"}
        app.dependency_overrides[greeting] = lambda: "bonjour"
        assert client.get("/greet").json() == {"word": "bonjour"}
        assert client.get("/plain").json() == {"kind": "plain"}


def test_apps_with_middleware_answer_the_same() -> None:
    from trivium.middleware import GZipMiddleware

    app, _ = make_app()
    app.add_middleware(GZipMiddleware, minimum_size=1)
    with TestClient(app) as client:
        response = client.get("/text", headers={"accept-encoding": "gzip"})
    assert response.text == "Hello, World!"
    assert response.headers["content-encoding"] == "gzip"


def make_param_app() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def item(
        item_id: int,
        q: str | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        x_tenant: Annotated[str | None, Header()] = None,
        flavour: Annotated[str | None, Cookie()] = None,
    ) -> dict[str, object]:
        return {"id": item_id, "q": q, "limit": limit, "tenant": x_tenant, "flavour": flavour}

    @app.get("/gone/{item_id}")
    async def gone(item_id: int) -> dict[str, int]:
        raise HTTPException(410, f"item {item_id} is gone")

    return app


def test_path_query_header_and_cookie_parameters_are_read_from_the_rsgi_scope() -> None:
    with TestClient(make_param_app(), cookies={"flavour": "oat"}) as client:
        response = client.get(
            "/items/42", params={"q": "a b&c", "limit": "5"}, headers={"x-tenant": "acme"}
        )
        defaults = client.get("/items/7")
    assert response.status_code == 200
    assert response.json() == {
        "id": 42,
        "q": "a b&c",
        "limit": 5,
        "tenant": "acme",
        "flavour": "oat",
    }
    assert response.headers["x-content-type-options"] == "nosniff"
    assert defaults.json() == {"id": 7, "q": None, "limit": 10, "tenant": None, "flavour": "oat"}


def test_invalid_parameters_still_answer_422_with_every_error() -> None:
    with TestClient(make_param_app()) as client:
        response = client.get("/items/seven", params={"limit": "500"})
    assert response.status_code == 422
    locations = sorted(tuple(error["loc"]) for error in response.json()["detail"])
    assert locations == [("path", "item_id"), ("query", "limit")]


def test_errors_raised_by_a_handler_with_parameters_become_answers() -> None:
    with TestClient(make_param_app()) as client:
        response = client.get("/gone/3")
        head = client.head("/items/1")
    assert response.status_code == 410
    assert response.json() == {"detail": "item 3 is gone"}
    assert head.status_code == 200
    assert head.content == b""


class Item(BaseModel):
    name: str
    price: float


def make_body_app() -> App:
    app = App()

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    @app.post("/small", max_body_size=64)
    async def small(item: Item) -> Item:
        return item

    return app


def test_json_bodies_are_validated_on_the_direct_path() -> None:
    with TestClient(make_body_app()) as client:
        ok = client.post("/items", json={"name": "pen", "price": 1.5})
        invalid = client.post("/items", json={"name": "pen"})
        malformed = client.post(
            "/items", content=b'{"name": ', headers={"content-type": "application/json"}
        )
        wrong_type = client.post(
            "/items", content=b"name=pen", headers={"content-type": "text/plain"}
        )
        empty = client.post("/items", content=b"", headers={"content-type": "application/json"})
    assert ok.status_code == 200
    assert ok.json() == {"name": "pen", "price": 1.5}
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "price"]
    assert malformed.status_code == 400
    assert wrong_type.status_code == 415
    assert empty.status_code == 422


def test_bodies_over_the_limit_or_without_a_length_take_the_general_path() -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "pen", '
        yield b'"price": 2}'

    with TestClient(make_body_app()) as client:
        too_big = client.post("/small", json={"name": "x" * 100, "price": 1})
        fits = client.post("/small", json={"name": "pen", "price": 1})
        streamed = client.post(
            "/items", content=chunks(), headers={"content-type": "application/json"}
        )
        bad_length = client.post(
            "/items",
            content=b'{"name": "pen", "price": 2}',
            headers={"content-type": "application/json", "content-length": "12x"},
        )
    assert too_big.status_code == 413
    assert fits.status_code == 200
    assert streamed.status_code == 200
    assert streamed.json() == {"name": "pen", "price": 2.0}
    assert bad_length.status_code == 400
