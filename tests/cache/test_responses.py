"""Response caching over HTTP: hits, ETags and 304s, Vary, credentials, stampedes, outages."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium.cache import Cache
from trivium.cache import CacheRule
from trivium.cache import cached
from trivium.errors import ConfigurationError
from trivium.responses import JSONResponse
from trivium.responses import StreamingResponse
from trivium.sessions import Sessions
from trivium.stores import MemoryStore
from trivium.stores import Store
from trivium.testing import AsyncTestClient
from trivium.testing import TestClient

REDIS = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Store | str]:
    """A memory store, or a Redis URL (the plugin's own store, closed at shutdown)."""
    if request.param == "memory":
        yield MemoryStore()
        return
    if not REDIS:
        pytest.skip("needs TRIVIUM_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    yield REDIS


def make_app(  # noqa: C901 - one small app with a route per case
    store: Store | str, **options: Any
) -> tuple[App, Cache, dict[str, int]]:
    options.setdefault("prefix", f"test-cache:{uuid.uuid4().hex[:8]}:")
    cache = Cache(store, **options)
    app = App(plugins=[cache, Sessions(secret_key="s" * 40, store=MemoryStore())])
    calls: dict[str, int] = {}

    def count(name: str) -> int:
        calls[name] = calls.get(name, 0) + 1
        return calls[name]

    @app.get("/articles", cache=CacheRule(60, tags=("articles",)))
    async def articles(page: int = 1) -> dict[str, int]:
        return {"page": page, "computed": count("articles")}

    @app.get("/greeting", cache=CacheRule(60, vary="accept-language"))
    async def greeting(request: Request) -> dict[str, Any]:
        return {"lang": request.headers.get("accept-language"), "n": count("greeting")}

    @app.get("/missing", cache=30)
    async def missing() -> None:
        count("missing")
        await asyncio.sleep(0.2)
        raise HTTPException(404, "no such page")

    @app.get("/stream", cache=30)
    async def stream() -> StreamingResponse:
        count("stream")
        await asyncio.sleep(0.2)
        return StreamingResponse(_chunks(), media_type="text/plain")

    @app.get("/slow", cache=30)
    async def slow() -> dict[str, int]:
        await asyncio.sleep(0.3)
        return {"n": count("slow")}

    @app.get("/cookie", cache=30)
    async def cookie() -> JSONResponse:
        response = JSONResponse({"n": count("cookie")})
        response.set_cookie("flavour", "oat")
        return response

    @app.get("/no-store", cache=30)
    async def no_store() -> JSONResponse:
        return JSONResponse({"n": count("no-store")}, headers={"cache-control": "no-store"})

    @app.get("/plain")
    async def plain() -> dict[str, bool]:
        count("plain")
        return {"ok": True}

    @app.get("/profile/{user_id}")
    async def profile(user_id: int) -> dict[str, int]:
        return await load_profile(user_id)

    @app.post("/invalidate/{tag}")
    async def invalidate(tag: str) -> None:
        await cache.invalidate(tags=[tag])

    @app.post("/forget/{key}")
    async def forget(key: str) -> None:
        await cache.delete(key)

    @app.get("/entry/{key}")
    async def entry(key: str) -> Any:
        return await cache.get(key)

    @cached(ttl=60, key="profile:{user_id}")
    async def load_profile(user_id: int) -> dict[str, int]:
        return {"id": user_id, "n": count("profile")}

    return app, cache, calls


async def _chunks() -> AsyncIterator[bytes]:
    yield b"streamed"


def test_a_hit_skips_the_handler_and_keeps_the_response(store: Store | str) -> None:
    app, _, calls = make_app(store)
    with TestClient(app) as client:
        first = client.get("/articles")
        second = client.get("/articles")
        assert first.json() == second.json() == {"page": 1, "computed": 1}
        assert first.headers["etag"] == second.headers["etag"]
        assert first.headers["cache-control"] == "public, max-age=60"
        assert second.headers["content-type"] == "application/json"
        assert client.get("/articles?page=2").json() == {"page": 2, "computed": 2}
        assert client.head("/articles").status_code == 200
        assert calls["articles"] == 2


def test_a_matching_if_none_match_gets_a_304_without_a_body(store: Store | str) -> None:
    app, _, calls = make_app(store)
    with TestClient(app) as client:
        etag = client.get("/articles").headers["etag"]
        again = client.get("/articles", headers={"if-none-match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        other = client.get("/articles", headers={"if-none-match": '"something-else"'})
        assert other.status_code == 200
        assert calls["articles"] == 1


def test_vary_headers_select_entries(store: Store | str) -> None:
    app, _, _ = make_app(store)
    with TestClient(app) as client:
        french = client.get("/greeting", headers={"accept-language": "fr"})
        english = client.get("/greeting", headers={"accept-language": "en"})
        assert french.json() == {"lang": "fr", "n": 1}
        assert english.json() == {"lang": "en", "n": 2}
        assert client.get("/greeting", headers={"accept-language": "fr"}).json()["n"] == 1
        # The app has sessions: a cache in front must key the shared page on credentials.
        assert french.headers["vary"] == "accept-language, authorization, cookie"


def test_requests_with_credentials_never_get_another_users_page(store: Store | str) -> None:
    app, _, calls = make_app(store)
    with TestClient(app) as client:
        shared = client.get("/articles")
        assert shared.headers["cache-control"] == "public, max-age=60"
        assert "cookie" in shared.headers["vary"]
        # Shared entries are bypassed by requests with credentials, both ways...
        bearer = client.get("/articles", headers={"authorization": "Bearer ada"})
        assert bearer.json()["computed"] == 2
        client.cookies.set("session", "some-session-id")
        with_cookie = client.get("/articles")
        assert with_cookie.json()["computed"] == 3
        assert calls["articles"] == 3
        # ...and their pages say so to any cache in front (a CDN).
        assert bearer.headers["cache-control"] == "private"
        assert with_cookie.headers["cache-control"] == "private"


def test_responses_that_set_cookies_or_say_no_store_are_not_kept(store: Store | str) -> None:
    app, _, calls = make_app(store)
    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/cookie").status_code == 200
            assert client.get("/no-store").status_code == 200
            assert client.post("/articles").status_code == 405
            assert client.get("/nowhere").status_code == 404
        assert (calls["cookie"], calls["no-store"]) == (2, 2)


def test_request_cache_control_and_tags_recompute(store: Store | str) -> None:
    app, _, calls = make_app(store)
    with TestClient(app) as client:
        client.get("/articles")
        assert (
            client.get("/articles", headers={"cache-control": "no-cache"}).json()["computed"] == 2
        )
        assert client.get("/articles").json()["computed"] == 2  # the refreshed entry
        assert (
            client.get("/articles", headers={"cache-control": "no-store"}).json()["computed"] == 3
        )
        assert client.post("/invalidate/articles").status_code == 200
        assert client.get("/articles").json()["computed"] == 4
        assert calls["articles"] == 4


@pytest.mark.anyio
async def test_concurrent_requests_for_a_cold_page_run_the_handler_once(store: Store | str) -> None:
    app, _, calls = make_app(store)
    async with AsyncTestClient(app) as client:
        answers = await asyncio.gather(*(client.get("/slow") for _ in range(50)))
    assert {answer.json()["n"] for answer in answers} == {1}
    assert calls["slow"] == 1


def test_cached_functions_use_the_serving_apps_cache(store: Store | str) -> None:
    app, _, calls = make_app(store)
    with TestClient(app) as client:
        assert client.get("/profile/7").json() == {"id": 7, "n": 1}
        assert client.get("/profile/7").json() == {"id": 7, "n": 1}
        assert client.get("/profile/8").json() == {"id": 8, "n": 2}
        assert client.get("/entry/profile:7").json() == {"id": 7, "n": 1}
    with pytest.raises(RuntimeError, match="no Cache is serving"):
        asyncio.run(_call_outside())


async def _call_outside() -> None:
    @cached(ttl=1)
    async def f() -> int:
        return 1

    await f()


def test_etag_option_gives_plain_get_routes_etags_and_304s() -> None:
    app, _, calls = make_app(MemoryStore(), etag=True)
    with TestClient(app) as client:
        first = client.get("/plain")
        etag = first.headers["etag"]
        assert client.get("/plain", headers={"if-none-match": etag}).status_code == 304
        assert calls["plain"] == 2  # plain routes still run; the body is not sent again
    app, _, _ = make_app(MemoryStore())
    with TestClient(app) as client:
        assert "etag" not in client.get("/plain").headers


def _database_store_down() -> Store:
    from trivium.db import Database
    from trivium.stores import DatabaseStore

    return DatabaseStore(Database("postgresql://postgres@127.0.0.1:1/down", timeout=2))


@pytest.mark.parametrize("down", ["redis", "database"])
def test_an_unreachable_store_serves_uncached_answers(down: str) -> None:
    store = "redis://127.0.0.1:1/0" if down == "redis" else _database_store_down()
    app, _, calls = make_app(store)
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get("/articles").status_code == 200
        assert calls["articles"] == 3
        assert client.get("/entry/anything").json() is None
        assert client.get("/profile/7").json() == {"id": 7, "n": 1}
        assert client.get("/profile/7").json() == {"id": 7, "n": 2}


def test_removals_answer_503_while_the_store_is_down() -> None:
    app, _, _ = make_app("redis://127.0.0.1:1/0")
    with TestClient(app) as client:
        for path in ("/invalidate/articles", "/forget/profile:7"):
            answer = client.post(path)
            assert answer.status_code == 503
            assert answer.headers["retry-after"] == "5"
            assert answer.json() == {"detail": "the Redis store is unreachable"}


@pytest.mark.anyio
async def test_an_invalidation_while_a_response_is_computed_is_not_lost(
    store: Store | str,
) -> None:
    cache = Cache(store, prefix=f"test-cache:{uuid.uuid4().hex[:8]}:")
    app = App(plugins=[cache])
    data = {"price": 1}
    rendering, invalidated = asyncio.Event(), asyncio.Event()

    @app.get("/price", cache=CacheRule(60, tags=("prices",)))
    async def price() -> dict[str, int]:
        value = data["price"]  # read from the database...
        rendering.set()
        await invalidated.wait()  # ...then rendered while the price changes
        return {"price": value}

    @app.put("/price")
    async def set_price(value: int) -> None:
        data["price"] = value
        await cache.invalidate(tags=["prices"])

    async with AsyncTestClient(app) as client:
        in_flight = asyncio.create_task(client.get("/price"))
        await rendering.wait()
        assert (await client.put("/price", params={"value": 2})).status_code == 200
        invalidated.set()
        assert (await in_flight).json() == {"price": 1}
        assert (await client.get("/price")).json() == {"price": 2}


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/missing", "/stream"])
async def test_waiters_stop_waiting_when_the_answer_is_not_kept(
    store: Store | str, path: str
) -> None:
    app, _, calls = make_app(store, wait=30)
    async with AsyncTestClient(app) as client:
        with anyio.fail_after(10):  # far below `wait`: nobody sleeps it out
            answers = await asyncio.gather(*(client.get(path) for _ in range(10)))
    assert {answer.status_code for answer in answers} == {404 if path == "/missing" else 200}
    assert calls[path.strip("/")] >= 2  # the waiters computed it themselves


def test_a_tag_given_as_one_string_is_one_tag(store: Store | str) -> None:
    cache = Cache(store, prefix=f"test-cache:{uuid.uuid4().hex[:8]}:")
    app = App(plugins=[cache])
    calls: list[int] = []

    @app.get("/news", cache=CacheRule(60, tags="news"))
    async def news() -> int:
        calls.append(1)
        return len(calls)

    @app.post("/news")
    async def publish() -> None:
        await cache.invalidate(tags=["news"])

    with TestClient(app) as client:
        assert client.get("/news").json() == 1
        assert client.get("/news").json() == 1
        client.post("/news")
        assert client.get("/news").json() == 2


def test_a_bad_cache_option_fails_at_start_up() -> None:
    app = App(plugins=[Cache()])

    @app.get("/x", cache="sixty")
    async def x() -> None:
        return None

    with pytest.raises(ConfigurationError) as caught:
        app.build()
    assert caught.value.code == "cache-option"
    with pytest.raises(ConfigurationError) as caught:
        CacheRule(ttl=0)
    assert caught.value.code == "cache-option"
