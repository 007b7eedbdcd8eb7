"""What a cached route keeps: never a visitor's session or CSRF token, never longer
than the response's own `Cache-Control` allows; hits say their `Age`."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from tests.cache.test_responses import store as response_store

from trivium import App
from trivium import Request
from trivium import Response
from trivium.cache import Cache
from trivium.csrf import CSRF
from trivium.csrf import get_csrf_token
from trivium.responses import HTMLResponse
from trivium.sessions import SessionMiddleware
from trivium.sessions import Sessions
from trivium.stores import MemoryStore
from trivium.stores import Store
from trivium.testing import TestClient

# The response tests' store: memory, or the plugin's own Redis (a URL).
store = response_store

SECRET = "s" * 48
TOKEN = re.compile(r'value="([^"]+)"')


def cache_of(store: Store | str) -> Cache:
    return Cache(store, prefix=f"test-cache:{uuid.uuid4().hex[:8]}:")


def form_app(store: Store | str) -> tuple[App, dict[str, int]]:
    app = App(plugins=[Sessions(secret_key=SECRET, store=MemoryStore()), CSRF(), cache_of(store)])
    calls = {"form": 0, "visit": 0, "read": 0}

    @app.get("/form", cache=60)
    async def form(request: Request) -> HTMLResponse:
        calls["form"] += 1
        return HTMLResponse(f'<input name="csrf" value="{get_csrf_token(request)}">')

    @app.get("/visit", cache=60)
    async def visit(request: Request) -> dict[str, int]:
        calls["visit"] += 1
        request.session["seen"] = calls["visit"]
        return {"visit": calls["visit"]}

    @app.get("/read", cache=60)
    async def read(request: Request) -> dict[str, Any]:
        calls["read"] += 1
        return {"seen": request.session.get("seen")}

    return app, calls


def test_a_page_issuing_a_csrf_token_is_not_kept_for_other_visitors(store: Store | str) -> None:
    app, calls = form_app(store)
    with TestClient(app) as client:
        first = client.get("/form")  # Alice, without a cookie
        assert "set-cookie" in first.headers
        assert first.headers["cache-control"] == "private"
        client.cookies.clear()
        second = client.get("/form")  # Bob, without a cookie
        assert second.headers["cache-control"] == "private"
        assert calls["form"] == 2
        token_a = TOKEN.search(first.text)
        token_b = TOKEN.search(second.text)
        assert token_a is not None
        assert token_b is not None
        assert token_a.group(1) != token_b.group(1)
        assert "set-cookie" in second.headers  # Bob's token is in his own session


def test_a_page_writing_the_session_is_not_kept(store: Store | str) -> None:
    app, calls = form_app(store)
    with TestClient(app) as client:
        first = client.get("/visit")
        assert first.json() == {"visit": 1}
        assert first.headers["cache-control"] == "private"
        assert "set-cookie" in first.headers
        client.cookies.clear()
        second = client.get("/visit")
        assert second.json() == {"visit": 2}
        assert calls["visit"] == 2


def test_a_page_reading_an_empty_session_is_still_kept(store: Store | str) -> None:
    app, calls = form_app(store)
    with TestClient(app) as client:
        first = client.get("/read")
        assert first.headers["cache-control"] == "public, max-age=60"
        assert "set-cookie" not in first.headers
        assert client.get("/read").json() == {"seen": None}
        assert calls["read"] == 1


def test_a_session_middlewares_session_is_never_kept(store: Store | str) -> None:
    app = App(plugins=[cache_of(store)])
    app.add_middleware(SessionMiddleware, secret_key=SECRET, store=MemoryStore())
    calls = {"n": 0}

    @app.get("/hello", cache=60)
    async def hello(request: Request) -> dict[str, Any]:
        calls["n"] += 1
        return {"name": request.session.get("name")}

    @app.get("/login")
    async def login(request: Request) -> dict[str, bool]:
        request.session["name"] = "alice"
        return {"ok": True}

    with TestClient(app) as client:
        client.get("/login")
        mine = client.get("/hello")  # came with her cookie: her page, not kept
        assert mine.json() == {"name": "alice"}
        assert mine.headers["cache-control"] == "private"
        client.cookies.clear()
        assert client.get("/hello").json() == {"name": None}
        assert calls["n"] == 2


def max_age_app(store: Store | str, control: str | None) -> tuple[App, dict[str, int]]:
    app = App(plugins=[cache_of(store)])
    calls = {"n": 0}

    @app.get("/page", cache=60)
    async def page() -> Response:
        calls["n"] += 1
        response = Response(f"page {calls['n']}", media_type="text/plain")
        if control is not None:
            response.headers["cache-control"] = control
        return response

    return app, calls


@pytest.mark.parametrize(
    "control", ["no-cache", "max-age=0", "public, s-maxage=0, max-age=60", "max-age=soon"]
)
def test_a_response_its_headers_say_not_to_reuse_is_not_kept(
    store: Store | str, control: str
) -> None:
    app, calls = max_age_app(store, control)
    with TestClient(app) as client:
        assert client.get("/page").text == "page 1"
        assert client.get("/page").text == "page 2"
        assert calls["n"] == 2


def test_a_responses_max_age_shortens_the_entry(store: Store | str) -> None:
    app, calls = max_age_app(store, "public, max-age=1")
    with TestClient(app) as client:
        assert client.get("/page").text == "page 1"
        hit = client.get("/page")
        assert hit.text == "page 1"
        assert hit.headers["cache-control"] == "public, max-age=1"
        time.sleep(1.2)
        assert client.get("/page").text == "page 2"
        assert calls["n"] == 2


def test_s_maxage_wins_over_max_age_for_the_entry(store: Store | str) -> None:
    app, calls = max_age_app(store, "public, max-age=60, s-maxage=1")
    with TestClient(app) as client:
        client.get("/page")
        time.sleep(1.2)
        assert client.get("/page").text == "page 2"
        assert calls["n"] == 2


def test_a_hit_says_how_long_it_has_been_kept(store: Store | str) -> None:
    app, _ = max_age_app(store, None)
    with TestClient(app) as client:
        first = client.get("/page")
        assert "age" not in first.headers
        time.sleep(1.1)
        hit = client.get("/page")
        assert hit.text == "page 1"
        assert hit.headers["cache-control"] == "public, max-age=60"
        assert int(hit.headers["age"]) >= 1
