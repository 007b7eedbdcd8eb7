"""SessionMiddleware through real HTTP: cookies, persistence, rotation, flush, expiry."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import pytest

from trivium import App
from trivium import Request
from trivium import WebSocket
from trivium.errors import ConfigurationError
from trivium.responses import Response
from trivium.sessions import Session
from trivium.sessions import SessionMiddleware
from trivium.sessions import Sessions
from trivium.stores import MemoryStore
from trivium.stores import Store
from trivium.testing import TestClient

KEY = "k" * 40


class CountingStore(MemoryStore):
    """A user-written store that counts reads, to check when the middleware uses it."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, key: str) -> bytes | None:
        self.reads += 1
        return await super().get(key)


def make_app(store: Store | None = None, **options: Any) -> App:
    app = App(openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=KEY, store=store, **options)

    @app.get("/get")
    async def get(request: Request) -> dict[str, Any]:
        return dict(request.session)

    @app.post("/set")
    async def set_(request: Request, key: str, value: str) -> dict[str, Any]:
        request.session[key] = value
        return dict(request.session)

    @app.post("/delete")
    async def delete(request: Request, key: str) -> dict[str, Any]:
        del request.session[key]
        return dict(request.session)

    @app.post("/rotate")
    async def rotate(request: Request) -> dict[str, Any]:
        request.session.rotate()  # type: ignore[attr-defined]
        return dict(request.session)

    @app.post("/flush")
    async def flush(request: Request) -> dict[str, Any]:
        request.session.flush()  # type: ignore[attr-defined]
        return dict(request.session)

    @app.post("/expiry")
    async def expiry(request: Request, seconds: int) -> dict[str, Any]:
        request.session.set_expiry(seconds)  # type: ignore[attr-defined]
        return dict(request.session)

    @app.get("/info")
    async def info(request: Request) -> dict[str, Any]:
        session = request.session
        assert isinstance(session, Session)
        return {"is_new": session.is_new, "modified": session.modified}

    @app.get("/varied")
    async def varied(request: Request) -> Response:
        return Response(str(dict(request.session)), headers={"vary": "Accept-Encoding"})

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(dict(websocket.scope["session"]))
        await websocket.close()

    return app


def set_cookie(response: Any) -> str:
    return str(response.headers["set-cookie"])


def test_session_values_persist_across_requests() -> None:
    client = TestClient(make_app())
    assert client.post("/set", params={"key": "user", "value": "ada"}).status_code == 200
    assert client.post("/set", params={"key": "theme", "value": "dark"}).status_code == 200
    assert client.get("/get").json() == {"user": "ada", "theme": "dark"}


def test_untouched_session_sets_no_cookie_and_reads_no_store() -> None:
    store = CountingStore()
    client = TestClient(make_app(store))
    response = client.get("/info")
    assert response.json() == {"is_new": True, "modified": False}
    assert "set-cookie" not in response.headers
    assert store.reads == 0


def test_a_new_session_draws_its_random_id_only_when_it_is_saved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import trivium.sessions._session as module

    drawn: list[str] = []
    original = module.new_session_id

    def counting() -> str:
        drawn.append(original())
        return drawn[-1]

    monkeypatch.setattr(module, "new_session_id", counting)
    client = TestClient(make_app())
    assert client.get("/info").json() == {"is_new": True, "modified": False}
    assert drawn == []  # an untouched anonymous session never needs an id
    saved = client.post("/set", params={"key": "a", "value": "1"})
    assert len(drawn) == 1
    assert set_cookie(saved).startswith(f"session={drawn[0]}.")  # the id the cookie signs
    assert client.get("/get").json() == {"a": "1"}
    session = Session()
    assert session.id == session.id  # drawn once, then kept
    assert Session().id != session.id


def test_a_cookie_costs_one_store_read_and_no_write_when_unchanged() -> None:
    store = CountingStore()
    client = TestClient(make_app(store))
    client.post("/set", params={"key": "a", "value": "1"})
    response = client.get("/get")
    assert store.reads == 1
    assert "set-cookie" not in response.headers


def test_cookie_carries_a_signed_id_with_safe_flags() -> None:
    client = TestClient(make_app())
    cookie = set_cookie(client.post("/set", params={"key": "secret", "value": "s3cr3t"}))
    assert cookie.startswith("session=")
    assert "s3cr3t" not in cookie
    for flag in ("HttpOnly", "SameSite=Lax", "Path=/", f"Max-Age={14 * 24 * 3600}"):
        assert flag in cookie
    assert "Secure" not in cookie


def test_cookie_is_secure_over_https() -> None:
    client = TestClient(make_app(), base_url="https://testserver")
    cookie = set_cookie(client.post("/set", params={"key": "a", "value": "1"}))
    assert "; Secure" in cookie
    assert client.get("/get").json() == {"a": "1"}


def test_cookie_options_are_applied() -> None:
    app = make_app(
        cookie_name="sid", same_site="strict", secure=True, domain="example.com", max_age=60
    )
    cookie = set_cookie(TestClient(app).post("/set", params={"key": "a", "value": "1"}))
    for part in ("sid=", "SameSite=Strict", "Secure", "Domain=example.com", "Max-Age=60"):
        assert part in cookie


def test_tampered_cookie_is_a_new_empty_session() -> None:
    app = make_app()
    client = TestClient(app)
    client.post("/set", params={"key": "user", "value": "ada"})
    value = client.cookies["session"]
    forged = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    other = TestClient(app, headers={"cookie": f"session={forged}"})
    assert other.get("/info").json() == {"is_new": True, "modified": False}
    unsigned = TestClient(app, headers={"cookie": f"session={value.split('.')[0]}"})
    assert unsigned.get("/get").json() == {}


def test_rotation_changes_the_id_and_kills_the_old_one() -> None:
    app = make_app()
    client = TestClient(app)
    client.post("/set", params={"key": "user", "value": "ada"})
    old = client.cookies["session"]
    response = client.post("/rotate")
    assert response.json() == {"user": "ada"}
    new = client.cookies["session"]
    assert new != old
    assert client.get("/get").json() == {"user": "ada"}
    assert TestClient(app, headers={"cookie": f"session={old}"}).get("/get").json() == {}


def test_flush_clears_data_and_expires_the_cookie() -> None:
    app = make_app()
    client = TestClient(app)
    client.post("/set", params={"key": "user", "value": "ada"})
    old = client.cookies["session"]
    response = client.post("/flush")
    assert response.json() == {}
    assert "Max-Age=0" in set_cookie(response)
    assert "session" not in client.cookies
    assert TestClient(app, headers={"cookie": f"session={old}"}).get("/get").json() == {}


def test_emptying_the_session_deletes_the_cookie() -> None:
    client = TestClient(make_app())
    client.post("/set", params={"key": "a", "value": "1"})
    response = client.post("/delete", params={"key": "a"})
    assert "Max-Age=0" in set_cookie(response)
    assert client.get("/get").json() == {}


def test_sessions_expire_with_the_store_ttl() -> None:
    # Three seconds: the read before expiry must fit in it on a loaded CI machine too.
    client = TestClient(make_app(max_age=3))
    client.post("/set", params={"key": "a", "value": "1"})
    assert client.get("/get").json() == {"a": "1"}
    time.sleep(3.2)
    assert client.get("/get").json() == {}


def test_set_expiry_changes_cookie_and_store_lifetime() -> None:
    client = TestClient(make_app())
    client.post("/set", params={"key": "a", "value": "1"})
    assert "Max-Age=1" in set_cookie(client.post("/expiry", params={"seconds": 1}))
    time.sleep(1.2)
    assert client.get("/get").json() == {}


def test_expiry_zero_makes_a_browser_session_cookie() -> None:
    client = TestClient(make_app())
    client.post("/set", params={"key": "a", "value": "1"})
    assert "Max-Age" not in set_cookie(client.post("/expiry", params={"seconds": 0}))
    assert "Max-Age" not in set_cookie(client.post("/set", params={"key": "b", "value": "2"}))


def test_fallback_keys_still_read_old_cookies() -> None:
    store = MemoryStore()
    old = TestClient(make_app(store))
    old.post("/set", params={"key": "a", "value": "1"})
    cookie = old.cookies["session"]
    app = App(openapi_url=None)
    app.add_middleware(
        SessionMiddleware, secret_key="n" * 40, fallback_secret_keys=[KEY], store=store
    )

    @app.get("/get")
    async def get(request: Request) -> dict[str, Any]:
        return dict(request.session)

    assert TestClient(app, headers={"cookie": f"session={cookie}"}).get("/get").json() == {"a": "1"}


def test_websockets_see_the_session() -> None:
    client = TestClient(make_app())
    client.post("/set", params={"key": "user", "value": "ada"})
    cookie = client.cookies["session"]
    with client.websocket_connect("/ws", headers={"cookie": f"session={cookie}"}) as ws:
        assert ws.receive_json() == {"user": "ada"}


@pytest.mark.parametrize("key", ["", "short", 12345])
def test_weak_secret_keys_are_refused(key: Any) -> None:
    with pytest.raises(ConfigurationError, match="at least 32 characters") as info:
        SessionMiddleware(make_app(), secret_key=key)
    assert info.value.code == "session-secret-key"


@pytest.mark.parametrize(
    "options",
    [
        {"same_site": "sometimes"},
        {"same_site": None},
        {"same_site": "none", "secure": False},
        {"cookie_name": "bad name"},
        {"max_age": 0},
        {"path": "/a;b"},
    ],
)
def test_invalid_cookie_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        SessionMiddleware(make_app(), secret_key=KEY, **options)
    assert info.value.code == "session-cookie"


def test_python_none_is_not_taken_for_same_site_none() -> None:
    with pytest.raises(ConfigurationError, match=r"\(a string\), not None") as info:
        Sessions(secret_key=KEY, same_site=None)
    assert info.value.code == "session-cookie"


def test_same_site_none_sends_a_secure_cookie() -> None:
    app = make_app(same_site="None")
    cookie = set_cookie(TestClient(app).post("/set", params={"key": "a", "value": "1"}))
    assert "SameSite=None" in cookie
    assert "; Secure" in cookie


def test_redis_store_shares_sessions_between_workers() -> None:
    url = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("needs TRIVIUM_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    from trivium.stores import RedisStore

    prefix = f"trivium-test:{uuid.uuid4().hex[:8]}:"

    def worker() -> App:
        # Each worker process has its own store object; closed at shutdown, in its loop.
        store = RedisStore(url, prefix=prefix)
        app = make_app(store)
        app.on_event("shutdown")(store.close)
        return app

    with TestClient(worker()) as first:
        first.post("/set", params={"key": "user", "value": "ada"})
        cookie = first.cookies["session"]
        with TestClient(worker(), headers={"cookie": f"session={cookie}"}) as other:
            assert other.get("/get").json() == {"user": "ada"}
        first.post("/flush")


def test_answers_that_may_depend_on_the_session_vary_on_cookie() -> None:
    client = TestClient(make_app())
    anonymous = client.get("/get")
    assert "vary" not in anonymous.headers  # no cookie in, none out: nothing to vary on
    started = client.post("/set", params={"key": "user", "value": "ada"})
    assert started.headers["vary"] == "Cookie"
    assert client.get("/get").headers["vary"] == "Cookie"
    # Merged into the handler's own Vary, never repeated.
    assert client.get("/varied").headers["vary"] == "Accept-Encoding, Cookie"


def test_a_missing_secret_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="secret_key is missing: it must be") as info:
        Sessions()
    assert info.value.code == "session-secret-key"
    app = App()
    app.add_middleware(SessionMiddleware)
    with pytest.raises(ConfigurationError, match="secret_key is missing") as info:
        TestClient(app).get("/")
    assert info.value.code == "session-secret-key"
