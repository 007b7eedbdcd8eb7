from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Annotated

import anyio
import pytest

from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium import Query
from trivium import Request
from trivium import Router
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


def test_sync_async_and_sub_dependencies() -> None:
    def settings() -> dict[str, int]:
        return {"page_size": 20}

    async def paging(
        page: Annotated[int, Query(ge=1)] = 1, cfg: dict[str, int] = Depends(settings)
    ) -> dict[str, int]:
        return {"page": page, "size": cfg["page_size"]}

    app = App()

    @app.get("/")
    async def index(p: dict[str, int] = Depends(paging)) -> dict[str, int]:
        return p

    client = TestClient(app)
    assert client.get("/?page=3").json() == {"page": 3, "size": 20}
    response = client.get("/?page=0")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "page"]


def test_dependency_is_called_once_per_request_by_default() -> None:
    calls: list[int] = []

    def counter() -> int:
        calls.append(1)
        return len(calls)

    def a(n: int = Depends(counter)) -> int:
        return n

    def b(n: int = Depends(counter)) -> int:
        return n

    app = App()

    @app.get("/")
    async def index(
        x: int = Depends(a), y: int = Depends(b), z: int = Depends(counter, use_cache=False)
    ) -> list[int]:
        return [x, y, z]

    client = TestClient(app)
    assert client.get("/").json() == [1, 1, 2]
    assert client.get("/").json() == [3, 3, 4]


def test_generator_teardown_runs_after_response() -> None:
    events: list[str] = []

    async def resource() -> AsyncIterator[str]:
        events.append("open")
        yield "r"
        events.append("close")

    def sync_resource() -> Iterator[str]:
        events.append("sync-open")
        yield "s"
        events.append("sync-close")

    app = App()

    @app.get("/")
    async def index(r: str = Depends(resource), s: str = Depends(sync_resource)) -> str:
        events.append("handler")
        return r + s

    assert TestClient(app).get("/").json() == "rs"
    assert events == ["open", "sync-open", "handler", "sync-close", "close"]


def test_handler_exception_is_delivered_into_the_generator() -> None:
    seen: list[str] = []

    async def transaction() -> AsyncIterator[None]:
        try:
            yield
        except HTTPException as exc:
            seen.append(f"rollback {exc.status_code}")
            raise
        else:
            seen.append("commit")

    app = App()

    @app.get("/ok")
    async def ok(_: None = Depends(transaction)) -> str:
        return "ok"

    @app.get("/fail")
    async def fail(_: None = Depends(transaction)) -> str:
        raise HTTPException(409, "conflict")

    client = TestClient(app)
    assert client.get("/ok").status_code == 200
    response = client.get("/fail")
    assert response.status_code == 409
    assert response.json() == {"detail": "conflict"}
    assert seen == ["commit", "rollback 409"]


def test_unexpected_error_reaches_teardown_and_gives_500() -> None:
    seen: list[str] = []

    def resource() -> Iterator[None]:
        try:
            yield
        except RuntimeError as exc:
            seen.append(str(exc))
            raise

    app = App()

    @app.get("/")
    def index(_: None = Depends(resource)) -> str:
        raise RuntimeError("boom")

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert seen == ["boom"]


def test_function_scope_teardown_runs_before_the_response() -> None:
    events: list[str] = []

    async def early() -> AsyncIterator[None]:
        yield
        events.append("early-teardown")

    async def late() -> AsyncIterator[None]:
        yield
        events.append("late-teardown")

    app = App()

    @app.get("/")
    async def index(
        request: Request,
        a: None = Depends(early, scope="function"),
        b: None = Depends(late),
    ) -> str:
        return "x"

    async def record_send(scope, receive, send):  # type: ignore[no-untyped-def]
        async def wrapped(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                events.append("response")
            await send(message)

        await app(scope, receive, wrapped)

    TestClient(record_send).get("/")
    assert events == ["early-teardown", "response", "late-teardown"]


def test_function_scope_teardown_can_turn_error_into_response() -> None:
    async def guard() -> AsyncIterator[None]:
        try:
            yield
        except KeyError:
            raise HTTPException(404, "no such key") from None

    app = App()

    @app.get("/")
    async def index(_: None = Depends(guard, scope="function")) -> str:
        raise KeyError("k")

    response = TestClient(app).get("/")
    assert response.status_code == 404
    assert response.json() == {"detail": "no such key"}


def test_dependencies_on_app_router_and_route_run_in_order() -> None:
    order: list[str] = []

    def make(name: str):  # type: ignore[no-untyped-def]
        def dep() -> None:
            order.append(name)

        return dep

    router = Router(dependencies=[Depends(make("router"))])

    @router.get("/", dependencies=[Depends(make("route"))])
    async def index() -> None:
        order.append("handler")

    app = App(dependencies=[Depends(make("app"))])
    app.include_router(router)
    TestClient(app).get("/")
    assert order == ["app", "router", "route", "handler"]


def test_dependency_overrides_replace_dependencies() -> None:
    def real_db() -> str:
        return "postgres"

    app = App()

    @app.get("/")
    async def index(db: str = Depends(real_db)) -> str:
        return db

    client = TestClient(app)
    assert client.get("/").json() == "postgres"

    def fake_db(name: str = "memory") -> str:
        return name

    app.dependency_overrides[real_db] = fake_db
    assert client.get("/").json() == "memory"
    assert client.get("/?name=sqlite").json() == "sqlite"
    app.dependency_overrides.clear()
    assert client.get("/").json() == "postgres"


def test_app_scoped_dependency_is_created_once_and_torn_down_at_shutdown() -> None:
    events: list[str] = []

    async def pool() -> AsyncIterator[dict[str, int]]:
        events.append("create")
        yield {"connections": 5}
        events.append("destroy")

    app = App()

    @app.get("/")
    async def index(p: dict[str, int] = Depends(pool, scope="app")) -> int:
        return id(p)

    with TestClient(app) as client:
        first = client.get("/").json()
        assert client.get("/").json() == first
        assert events == ["create"]
    assert events == ["create", "destroy"]


def test_app_scoped_dependency_cannot_use_request_values() -> None:
    def per_user(token: str) -> str:
        return token

    app = App()

    @app.get("/")
    async def index(x: str = Depends(per_user, scope="app")) -> str:
        return x

    with pytest.raises(ConfigurationError, match="app-scoped dependency"):
        app.build()


def test_dependency_cycle_is_reported() -> None:
    def a(x: int = Depends(lambda: 1)) -> int:
        return x

    def b(y: int = Depends(a)) -> int:
        return y

    # Build a real cycle by patching defaults after definition.
    a.__defaults__ = (Depends(b),)
    app = App()

    @app.get("/")
    async def index(v: int = Depends(b)) -> int:
        return v

    with pytest.raises(ConfigurationError, match="dependency cycle"):
        app.build()


class Pagination:
    def __init__(self, skip: int = 0, limit: int = 10) -> None:
        self.skip = skip
        self.limit = limit


def test_class_dependency() -> None:
    app = App()

    @app.get("/")
    async def index(p: Pagination = Depends()) -> list[int]:
        return [p.skip, p.limit]

    assert TestClient(app).get("/?skip=5").json() == [5, 10]


def test_resolve_outside_a_request() -> None:
    events: list[str] = []

    def settings() -> dict[str, str]:
        return {"dsn": "sqlite://"}

    async def database(
        cfg: dict[str, str] = Depends(settings), echo: bool = False
    ) -> AsyncIterator[str]:
        events.append("open")
        yield f"{cfg['dsn']} echo={echo}"
        events.append("close")

    app = App()

    async def main() -> str:
        async with app.resolve(database) as db:
            return db

    assert anyio.run(main) == "sqlite:// echo=False"
    assert events == ["open", "close"]


def test_resolve_refuses_request_only_dependencies() -> None:
    def needs_request(request: Request) -> str:
        return request.url.path

    app = App()

    async def main() -> None:
        async with app.resolve(needs_request):
            pass

    with pytest.raises(ConfigurationError, match="cannot be resolved outside"):
        anyio.run(main)


def test_sync_handlers_run_in_worker_threads() -> None:
    import threading

    app = App()

    async def loop_thread() -> int:
        return threading.get_ident()

    @app.get("/")
    def index(loop: int = Depends(loop_thread)) -> bool:
        return threading.get_ident() != loop

    assert TestClient(app).get("/").json() is True


def test_dependency_may_declare_its_own_scope() -> None:
    events: list[str] = []

    async def session() -> AsyncIterator[None]:
        yield
        events.append("commit")

    session.__trivium_scope__ = "function"  # type: ignore[attr-defined]

    app = App()

    @app.get("/")
    async def index(
        _: None = Depends(session), late: None = Depends(session, scope="request", use_cache=False)
    ) -> str:
        return "x"

    async def record(scope, receive, send):  # type: ignore[no-untyped-def]
        async def wrapped(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                events.append("response")
            await send(message)

        await app(scope, receive, wrapped)

    TestClient(record).get("/")
    assert events == ["commit", "response", "commit"]
