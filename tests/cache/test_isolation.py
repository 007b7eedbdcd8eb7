"""What a cached answer may carry from one request to another: never a user, a host, a
rate limit's counts or any other header of the request that computed it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.cache.test_responses import store

from trivium import App
from trivium import Depends
from trivium import Request
from trivium import Response
from trivium.auth import Auth
from trivium.auth import CurrentUser
from trivium.auth import create_user
from trivium.auth import require_staff
from trivium.cache import Cache
from trivium.cache import CacheRule
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.ratelimit import RateLimits
from trivium.stores import MemoryStore
from trivium.stores import Store
from trivium.testing import TestClient

__all__ = ["store"]

PASSWORD = "a long passphrase 1"


def make_cache(store: Store | str) -> Cache:
    return Cache(store, prefix=f"test-cache:{uuid.uuid4().hex[:8]}:")


def test_a_cached_answer_is_still_rate_limited_and_carries_its_own_counts(
    store: Store | str,
) -> None:
    app = App(plugins=[make_cache(store), RateLimits()])
    calls: list[int] = []

    @app.get("/page", cache=CacheRule(60), rate_limit="3/minute")
    async def page() -> dict[str, bool]:
        calls.append(1)
        return {"ok": True}

    with TestClient(app) as client:
        answers = [client.get("/page") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["ratelimit-remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert len(calls) == 1


class _Stamp(RequestStep):
    """Number each response, as a step adding a per-request header would."""

    def __init__(self) -> None:
        self.count = 0

    def after(self, request: Request, response: Response | None) -> None:
        self.count += 1
        if response is not None:
            response.headers.append("x-stamp", str(self.count))


class _Stamps(Plugin):
    def __init__(self) -> None:
        self.step = _Stamp()

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        return (self.step,)


def test_headers_other_steps_add_are_never_replayed_from_an_entry(store: Store | str) -> None:
    app = App(plugins=[make_cache(store), _Stamps()])

    @app.get("/page", cache=CacheRule(60))
    async def page() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        first = client.get("/page")
        second = client.get("/page")
    assert first.headers.get_list("x-stamp") == ["1"]
    assert second.headers.get_list("x-stamp") == ["2"]
    assert second.headers["etag"] == first.headers["etag"]  # the same entry


def test_the_host_and_scheme_select_entries(store: Store | str) -> None:
    app = App(plugins=[make_cache(store)])

    @app.get("/", cache=CacheRule(60))
    async def home(request: Request) -> dict[str, str]:
        return {"link": str(request.url_for("home"))}

    with TestClient(app) as client:
        assert client.get("/", headers={"host": "evil.example"}).json() == {
            "link": "http://evil.example/"
        }
        assert client.get("/").json() == {"link": "http://testserver/"}
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/").json() == {"link": "https://testserver/"}


def test_the_rules_vary_is_merged_with_the_handlers(store: Store | str) -> None:
    app = App(plugins=[make_cache(store)])

    @app.get("/greet", cache=CacheRule(60, vary="accept-language"))
    async def greet(request: Request, response: Response) -> str:
        response.headers["vary"] = request.query_params.get("vary", "")
        return request.headers.get("accept-language", "")

    with TestClient(app) as client:
        french = client.get("/greet?vary=Accept-Encoding", headers={"accept-language": "fr"})
        again = client.get("/greet?vary=Accept-Encoding", headers={"accept-language": "fr"})
        both = client.get("/greet?vary=Accept-Language,origin", headers={"accept-language": "en"})
    assert french.headers["vary"] == again.headers["vary"] == "Accept-Encoding, accept-language"
    assert both.headers["vary"] == "Accept-Language, origin"
    assert (french.json(), both.json()) == ("fr", "en")


# Private entries: keyed by the user trivium.auth finds, after authentication ------------


@pytest.fixture
def auth_app(store: Store | str, tmp_path: Path) -> tuple[App, list[str]]:
    """An app with Ada and Bob, and a private page that says whose it is."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'users.db'}")
    anyio.run(_add_users, db)
    auth = Auth(db, secret_key="k" * 40, session_store=MemoryStore())
    app = App(plugins=[db, auth, make_cache(store)])
    computed: list[str] = []

    @app.get("/dashboard", cache=CacheRule(60, private=True))
    async def dashboard(request: Request) -> dict[str, Any]:
        computed.append(request.user.email or "anonymous")
        return {"user": request.user.email or "anonymous", "n": len(computed)}

    return app, computed


async def _add_users(db: Database) -> None:
    await db.create_all()
    async with db.sessionmaker() as session:
        for name in ("ada", "bob"):
            await create_user(session, email=f"{name}@example.com", password=PASSWORD)
        await session.commit()
    await db.dispose()


def _login(client: TestClient, name: str) -> str:
    """Log `name` in on a fresh session; return its cookie."""
    client.cookies.clear()
    answer = client.post(
        "/auth/login", json={"identifier": f"{name}@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 200
    return str(client.cookies["session"])


def test_private_entries_are_kept_per_user(auth_app: tuple[App, list[str]]) -> None:
    app, computed = auth_app
    with TestClient(app) as client:  # one client (one event loop), a cookie per user
        cookies = {name: _login(client, name) for name in ("ada", "bob")}
        client.cookies.set("session", cookies["ada"])
        first = client.get("/dashboard")
        assert first.json() == {"user": "ada@example.com", "n": 1}
        assert client.get("/dashboard").json()["n"] == 1
        client.cookies.set("session", cookies["bob"])
        assert client.get("/dashboard").json() == {"user": "bob@example.com", "n": 2}
        client.cookies.clear()
        assert client.get("/dashboard").json() == {"user": "anonymous", "n": 3}
        assert client.get("/dashboard").json()["n"] == 3
        assert first.headers["cache-control"] == "private, max-age=60"
        assert first.headers["vary"] == "authorization, cookie"
    assert computed == ["ada@example.com", "bob@example.com", "anonymous"]


def test_auth_guards_are_not_refused_and_still_guard(store: Store | str, tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'users.db'}")
    anyio.run(_add_users, db)
    auth = Auth(db, secret_key="k" * 40, session_store=MemoryStore())
    app = App(plugins=[db, auth, make_cache(store)])

    @app.get("/mine", cache=CacheRule(60, private=True))
    async def mine(user: CurrentUser) -> dict[str, Any]:
        return {"user": user.email}

    @app.get("/staff", cache=60, dependencies=[Depends(require_staff)])
    async def staff() -> list[str]:
        return ["roster"]

    with TestClient(app) as client:
        assert client.get("/mine").status_code == 401
        _login(client, "ada")
        assert client.get("/mine").json() == {"user": "ada@example.com"}
        assert client.get("/staff").status_code == 403  # Ada is not staff
        client.cookies.clear()
        assert client.get("/mine").status_code == 401
        assert client.get("/staff").status_code == 401


def test_a_private_entry_is_not_served_after_logout(auth_app: tuple[App, list[str]]) -> None:
    app, computed = auth_app
    with TestClient(app) as client:
        _login(client, "ada")
        assert client.get("/dashboard").json()["user"] == "ada@example.com"
        cookie = client.cookies["session"]
        token = client.get("/auth/csrf").json()["csrf_token"]
        assert client.post("/auth/logout", headers={"x-csrf-token": token}).status_code == 204
        client.cookies.clear()
        client.cookies.set("session", cookie)  # the old cookie: another tab, a copy...
        assert client.get("/dashboard").json()["user"] == "anonymous"
    assert computed == ["ada@example.com", "anonymous"]


def test_private_rules_need_an_authenticated_user_at_start_up(tmp_path: Path) -> None:
    app = App(plugins=[Cache()])

    @app.get("/mine", cache=CacheRule(60, private=True))
    async def mine(request: Request) -> None:
        return None

    with pytest.raises(ConfigurationError, match="install trivium.auth") as caught:
        app.build()
    assert caught.value.code == "cache-option"

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'users.db'}")
    auth = Auth(db, secret_key="k" * 40, session_store=MemoryStore())
    app = App(plugins=[db, auth, Cache()])

    @app.get("/mine", cache=CacheRule(60, private=True))
    async def blind() -> None:
        return None

    with pytest.raises(ConfigurationError, match="never reads the user") as caught:
        app.build()
    assert caught.value.code == "cache-option"
