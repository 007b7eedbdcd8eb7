"""Sessions, authentication and CSRF as compiled steps: each route pays only for what it uses."""

from __future__ import annotations

import os
import uuid
from typing import Any

import anyio
import pytest
from sqlalchemy import event

from trivium import App
from trivium import Request
from trivium.auth import Auth
from trivium.auth import CurrentUser
from trivium.auth import create_user
from trivium.csrf import CSRF
from trivium.csrf import CSRFMiddleware
from trivium.csrf import get_csrf_token
from trivium.db import Database
from trivium.db import Model
from trivium.errors import ConfigurationError
from trivium.sessions import SessionMiddleware
from trivium.sessions import Sessions
from trivium.stores import MemoryStore
from trivium.testing import TestClient

KEY = "battery-steps-tests-" + "k" * 40
PASSWORD = "correct horse battery staple"


class CountingStore(MemoryStore):
    """A `Store` counting the calls it gets (substituted through the public `store=`)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def get(self, key: str) -> bytes | None:
        self.calls.append("get")
        return await super().get(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self.calls.append("set")
        await super().set(key, value, ttl)


def session_app(store: CountingStore, **options: Any) -> App:
    app = App(plugins=[Sessions(secret_key=KEY, store=store, **options), CSRF()])

    @app.get("/plain")
    async def plain() -> str:
        return "plain"

    @app.post("/plain")
    async def plain_post(value: int) -> int:
        return value

    @app.get("/visit")
    async def visit(request: Request) -> int:
        request.session["n"] = request.session.get("n", 0) + 1
        return int(request.session["n"])

    @app.get("/token")
    async def token(request: Request) -> str:
        return get_csrf_token(request)

    @app.post("/save")
    async def save(request: Request) -> str:
        return "saved"

    return app


def test_a_route_without_the_request_never_touches_the_store_even_with_a_cookie() -> None:
    store = CountingStore()
    with TestClient(session_app(store)) as client:
        assert client.get("/visit").json() == 1
        assert store.calls == ["set"]
        assert "session" in client.cookies
        store.calls.clear()
        plain = client.get("/plain")
        assert plain.json() == "plain"
        assert "set-cookie" not in plain.headers
        assert "vary" not in plain.headers
        assert client.post("/plain", params={"value": 3}).json() == 3  # no CSRF check either
        assert store.calls == []
        assert client.get("/visit").json() == 2
        assert store.calls == ["get", "get", "set"]  # a generic store: still there, then saved


def test_a_request_without_the_cookie_costs_no_store_access() -> None:
    store = CountingStore()
    with TestClient(session_app(store)) as client:
        response = client.post("/save")
    assert response.json() == "saved"
    assert store.calls == []


def test_a_sessions_subclass_overriding_load_and_commit_is_always_called() -> None:
    # The step answers a cookie-less request and an unchanged session without calling
    # `load`/`commit`; that shortcut must not skip a subclass's own versions.
    from trivium.sessions import Session

    calls: list[str] = []

    class Welcoming(Sessions):
        async def load(self, cookie: str | None) -> Session:
            calls.append("load")
            session = await super().load(cookie)
            if cookie is None:
                session["greeting"] = "welcome"
            return session

        async def commit(self, session: Session, *, secure: bool) -> str | None:
            calls.append("commit")
            return await super().commit(session, secure=secure)

    app = App(plugins=[Welcoming(secret_key=KEY, store=CountingStore())])

    @app.get("/greeting")
    async def greeting(request: Request) -> str:
        return str(request.session.get("greeting"))

    with TestClient(app) as client:
        first = client.get("/greeting")
        again = client.get("/greeting")
    assert first.json() == again.json() == "welcome"
    assert "set-cookie" in first.headers  # the greeting made the session worth saving
    assert calls == ["load", "commit", "load", "commit"]


@pytest.mark.parametrize("cookie_name", ["session", "sid"])
def test_csrf_checks_cookie_authenticated_posts_whatever_the_cookie_is_called(
    cookie_name: str,
) -> None:
    # Regression: with the cookie renamed, JSON posts carrying it skipped the token check.
    store = CountingStore()
    with TestClient(session_app(store, cookie_name=cookie_name)) as client:
        token = client.get("/token").json()
        assert cookie_name in client.cookies
        refused = client.post("/save", json={"x": 1})
        assert refused.status_code == 403
        assert refused.json() == {"detail": "CSRF token missing"}
        assert refused.headers["x-content-type-options"] == "nosniff"
        accepted = client.post("/save", json={"x": 1}, headers={"X-CSRF-Token": token})
        assert accepted.status_code == 200


def test_csrf_middleware_reads_the_session_not_the_cookie_name() -> None:
    app = App()
    app.add_middleware(CSRFMiddleware)
    app.add_middleware(SessionMiddleware, secret_key=KEY, cookie_name="sid")

    @app.get("/token")
    async def token(request: Request) -> str:
        return get_csrf_token(request)

    @app.post("/save")
    async def save() -> str:
        return "saved"

    with TestClient(app) as client:
        token_value = client.get("/token").json()
        assert client.post("/save", json={}).status_code == 403
        assert client.post("/save", json={}, headers={"X-CSRF-Token": token_value}).json() == (
            "saved"
        )


def test_csrf_without_sessions_refuses_to_start() -> None:
    app = App(plugins=[CSRF()])
    with pytest.raises(ConfigurationError, match="needs sessions") as info:
        app.build()
    assert info.value.code == "csrf-no-session"


def test_auth_refuses_session_middleware_next_to_it(tmp_path: Any) -> None:
    app = App()
    app.add_middleware(SessionMiddleware, secret_key=KEY)
    Auth(Database(f"sqlite:///{tmp_path / 'a.db'}"), secret_key=KEY).init_app(app)
    with pytest.raises(ConfigurationError, match="Sessions") as info:
        app.build()
    assert info.value.code == "auth-middleware"


def test_auth_config_is_one_place_for_each_option(tmp_path: Any) -> None:
    from trivium.auth import AuthConfig

    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    assert Auth(db, secret_key=KEY, signup=True).config == AuthConfig(signup=True)
    with pytest.raises(ConfigurationError, match="AuthConfig") as info:
        Auth(db, secret_key=KEY, config=AuthConfig(), signup=True)
    assert info.value.code == "auth-config"
    with pytest.raises(TypeError, match="sign_up"):
        Auth(db, secret_key=KEY, sign_up=True)


def test_auth_registers_the_migrations_of_the_stores_it_uses(tmp_path: Any) -> None:
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    app = App()
    Auth(db, secret_key=KEY).init_app(app)  # sessions in a DatabaseStore(db) by default
    app.build()
    assert set(db.migration_locations) == {"trivium.auth", "trivium.stores"}
    other = Database(f"sqlite:///{tmp_path / 'b.db'}")
    memory = App()
    Auth(other, secret_key=KEY, session_store=MemoryStore()).init_app(memory)
    memory.build()
    assert set(other.migration_locations) == {"trivium.auth"}


def _server_url() -> str | None:
    return os.environ.get("TRIVIUM_TEST_POSTGRES_URL")


async def _seed(db: Database) -> None:
    await db.create_all(Model.metadata)
    async with db.sessionmaker() as session:
        await create_user(session, username="ada", email="ada@example.com", password=PASSWORD)
        await session.commit()
    await db.dispose()


def auth_app(db: Database, store: Any) -> App:
    app = App()
    Auth(db, secret_key=KEY, session_store=store, login_throttle=None).init_app(app)

    @app.get("/email")
    async def email(user: CurrentUser) -> str:
        return str(user.email)

    @app.get("/json")
    async def plain() -> dict[str, bool]:
        return {"ok": True}

    return app


def test_a_logged_in_request_reads_its_user_with_one_statement_and_no_transaction(
    tmp_path: Any,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'users.db'}")
    anyio.run(_seed, db)
    statements: list[str] = []
    with TestClient(auth_app(db, MemoryStore())) as client:
        login = client.post("/auth/login", json={"identifier": "ada", "password": PASSWORD})
        assert login.status_code == 200
        event.listen(
            db.engine.sync_engine,
            "before_cursor_execute",
            lambda *args: statements.append(args[2]),
        )
        assert client.get("/email").json() == "ada@example.com"
        assert client.get("/json").json() == {"ok": True}
    assert len(statements) == 1
    assert statements[0].lstrip().upper().startswith("SELECT")


@pytest.mark.skipif(
    not (_server_url() and os.environ.get("TRIVIUM_TEST_REDIS_URL")),
    reason="needs TRIVIUM_TEST_POSTGRES_URL and TRIVIUM_TEST_REDIS_URL",
)
def test_redis_sessions_and_postgresql_users() -> None:
    from sqlalchemy import text

    from trivium.stores import RedisStore

    name = f"test_steps_{uuid.uuid4().hex[:8]}"
    base = Database(_server_url() or "")

    async def statement(sql: str) -> None:
        engine = base.engine.execution_options(isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(sql))
        await base.dispose()

    anyio.run(statement, f"CREATE DATABASE {name}")
    try:
        db = Database(base.url.set(database=name))
        anyio.run(_seed, db)
        store = RedisStore(os.environ["TRIVIUM_TEST_REDIS_URL"], prefix=f"{name}:")
        app = auth_app(db, store)
        app.on_event("shutdown")(store.close)  # the store's connections, on the app's loop
        with TestClient(app) as client:
            assert client.get("/email").status_code == 401
            login = client.post("/auth/login", json={"identifier": "ada", "password": PASSWORD})
            assert login.status_code == 200
            for _ in range(3):
                assert client.get("/email").json() == "ada@example.com"
            assert client.get("/json").json() == {"ok": True}
        anyio.run(db.dispose)
    finally:
        anyio.run(statement, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_middleware_of_lists_entries_of_a_class_outermost_first() -> None:
    from trivium.middleware import GZipMiddleware
    from trivium.middleware import TrustedHostMiddleware

    app = App()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["a.example"])
    app.add_middleware(GZipMiddleware)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["b.example"])
    found = app.middleware_of(TrustedHostMiddleware)
    assert [item.kwargs["allowed_hosts"] for item in found] == [["b.example"], ["a.example"]]
    assert app.middleware_of(GZipMiddleware)[0].cls is GZipMiddleware
    assert app.middleware_of(dict) == []
