"""What the cache must never do: serve a page past a handler's `Vary` or a route's guard,
keep a value it can't give back, or key calls on arguments it can't tell apart."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from tests.cache.test_responses import store as response_store

from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium import Request
from trivium import Response
from trivium.cache import Cache
from trivium.cache import CacheRule
from trivium.cache import cached
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.plugins import Plugin
from trivium.routing import Router
from trivium.stores import Store
from trivium.testing import TestClient

# The response tests' store: memory, or the plugin's own Redis (a URL).
store = response_store


def vary_app(store: Store | str, vary: str) -> tuple[App, dict[str, int]]:
    app = App(plugins=[Cache(store, prefix=f"test-cache:{uuid.uuid4().hex[:8]}:")])
    calls = {"n": 0}

    @app.get("/me", cache=CacheRule(60, vary="accept-language"))
    async def me(request: Request) -> Response:
        calls["n"] += 1
        key = request.headers.get("x-api-key")
        response = Response(f"account of {key}", media_type="text/plain")
        response.headers["vary"] = vary
        return response

    return app, calls


def test_a_handlers_vary_header_keys_the_entry(store: Store | str) -> None:
    app, calls = vary_app(store, "X-Api-Key")
    with TestClient(app) as client:
        alice = client.get("/me", headers={"x-api-key": "alice"})
        bob = client.get("/me", headers={"x-api-key": "bob"})
        assert alice.text == "account of alice"
        assert bob.text == "account of bob"
        again = client.get("/me", headers={"x-api-key": "alice"})
        assert again.text == "account of alice"
        assert calls["n"] == 2
        assert again.headers["vary"] == "X-Api-Key, accept-language"
        # The rule's own vary header still selects entries too.
        french = client.get("/me", headers={"x-api-key": "alice", "accept-language": "fr"})
        assert french.text == "account of alice"
        assert calls["n"] == 3


def test_a_response_that_varies_on_everything_is_not_kept(store: Store | str) -> None:
    app, calls = vary_app(store, "*")
    with TestClient(app) as client:
        assert client.get("/me", headers={"x-api-key": "alice"}).text == "account of alice"
        assert client.get("/me", headers={"x-api-key": "bob"}).text == "account of bob"
        assert client.get("/me", headers={"x-api-key": "alice"}).status_code == 200
        assert calls["n"] == 3


def require_key(request: Request) -> None:
    if request.headers.get("x-api-key") != "secret":
        raise HTTPException(401, "send a valid X-Api-Key header")


def test_a_cached_route_with_dependencies_is_refused_at_start_up() -> None:
    app = App(plugins=[Cache()])

    @app.get("/reports", cache=60, dependencies=[Depends(require_key)])
    async def reports() -> list[str]:
        return ["confidential"]

    with pytest.raises(ConfigurationError, match="skip_dependencies=True") as caught:
        app.build()
    assert caught.value.code == "cache-dependencies"
    assert "/reports" in str(caught.value)


def test_dependencies_of_a_router_or_the_app_are_refused_too() -> None:
    router = Router(dependencies=[Depends(require_key)])

    @router.get("/reports", cache=60)
    async def reports() -> list[str]:
        return ["confidential"]

    app = App(plugins=[Cache()])
    app.include_router(router)
    with pytest.raises(ConfigurationError) as caught:
        app.build()
    assert caught.value.code == "cache-dependencies"

    guarded = App(plugins=[Cache()], dependencies=[Depends(require_key)])

    @guarded.get("/reports", cache=60)
    async def app_reports() -> list[str]:
        return ["confidential"]

    with pytest.raises(ConfigurationError) as caught:
        guarded.build()
    assert caught.value.code == "cache-dependencies"


def test_a_guard_taken_as_a_handler_parameter_is_refused_too() -> None:
    """A hit skips the parameters' dependencies: one admin's page went to anyone."""

    def require_admin(request: Request) -> str:
        if request.headers.get("x-token") != "admin":
            raise HTTPException(403, "admins only")
        return "admin"

    app = App(plugins=[Cache()])

    @app.get("/secret", cache=60)
    async def secret(who: str = Depends(require_admin)) -> dict[str, int]:
        return {"secret": 42}

    with pytest.raises(ConfigurationError, match="require_admin") as caught:
        app.build()
    assert caught.value.code == "cache-dependencies"


def test_a_guard_nested_in_a_dependency_of_a_plugin_route_is_refused() -> None:
    def require_key(request: Request) -> None:
        if request.headers.get("x-api-key") != "secret":
            raise HTTPException(401, "send a valid X-Api-Key header")

    def account(_: None = Depends(require_key)) -> str:
        return "acme"

    async def report(name: str = Depends(account)) -> dict[str, str]:
        return {"account": name}

    class Reports(Plugin):
        def routes(self, app: App) -> Sequence[Router]:
            router = Router()
            router.get("/report", cache=60)(report)
            return [router]

    app = App(plugins=[Cache(), Reports()])
    with pytest.raises(ConfigurationError, match="'/report'") as caught:
        app.build()
    assert caught.value.code == "cache-dependencies"


def test_a_plugins_provider_is_not_a_guard(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'rows.db'}")
    app = App(plugins=[db, Cache()])
    computed: list[int] = []

    @app.get("/count", cache=60)
    async def count(session: AsyncSession = db.depends()) -> dict[str, int]:
        computed.append(1)
        return {"one": (await session.execute(text("SELECT 1"))).scalar_one()}

    with TestClient(app) as client:
        assert client.get("/count").json() == {"one": 1}
        assert client.get("/count").json() == {"one": 1}
    assert computed == [1]


def test_skip_dependencies_opts_in_to_hits_that_skip_them() -> None:
    seen: list[str] = []

    def record(request: Request) -> None:
        seen.append(request.url.path)

    app = App(plugins=[Cache()])

    @app.get(
        "/reports", cache=CacheRule(60, skip_dependencies=True), dependencies=[Depends(record)]
    )
    async def reports() -> list[str]:
        return ["public"]

    with TestClient(app) as client:
        assert client.get("/reports").json() == ["public"]
        assert client.get("/reports").json() == ["public"]
    assert seen == ["/reports"]


def test_skip_dependencies_must_be_a_bool() -> None:
    with pytest.raises(ConfigurationError) as caught:
        CacheRule(60, skip_dependencies="yes")  # type: ignore[arg-type]
    assert caught.value.code == "cache-option"


@pytest.mark.anyio
@pytest.mark.parametrize("value", [float("nan"), float("inf"), {"a": [1, float("-inf")]}])
async def test_nan_and_infinity_are_refused(value: Any) -> None:
    cache = Cache()
    with pytest.raises(ValueError, match="NaN"):
        await cache.set("k", value)
    with pytest.raises(ValueError, match="NaN"):
        await cache.get_or_set("k", lambda: _value(value))
    await cache.set("k", {"a": None, "b": 1.5})
    assert await cache.get("k") == {"a": None, "b": 1.5}


async def _value(value: Any) -> Any:
    return value


class Thing:
    def __init__(self, v: int) -> None:
        self.v = v


@pytest.mark.anyio
async def test_default_keys_refuse_arguments_json_cannot_encode() -> None:
    cache = Cache()

    @cache.cached(ttl=60)
    async def f(x: object) -> int:
        return 1

    assert await f({"a": 1}) == 1
    with pytest.raises(TypeError, match="key="):
        await f(Thing(1))
    with pytest.raises(TypeError, match="key="):
        await f(float("nan"))


@pytest.mark.parametrize("template", ["k:{missing}", "k:{0}", "k:{x.attr}{y}", "k:{"])
def test_a_key_template_naming_no_parameter_is_refused_when_decorating(template: str) -> None:
    async def g(x: int) -> int:
        return x

    with pytest.raises(ConfigurationError, match="key=") as caught:
        Cache().cached(key=template)(g)
    assert caught.value.code == "cache-option"
    with pytest.raises(ConfigurationError, match="key="):
        cached(key=template)(g)


def test_a_key_template_may_name_attributes_and_keyword_arguments() -> None:
    async def g(x: Thing, **extra: Any) -> int:
        return x.v

    Cache().cached(key="k:{x.v}:{other}")(g)
