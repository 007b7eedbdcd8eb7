"""Which scopes a dependency may depend on, and the order teardowns run in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trivium import App
from trivium import Depends
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


def _function_scoped() -> Iterator[str]:
    yield "f"


def test_request_scoped_generator_cannot_depend_on_a_function_scoped_one() -> None:
    def holder(value: str = Depends(_function_scoped, scope="function")) -> Iterator[str]:
        yield value

    app = App()

    @app.get("/")
    async def index(value: str = Depends(holder, scope="request")) -> str:
        return value

    with pytest.raises(ConfigurationError, match="request-scoped dependency .*holder") as info:
        app.build()
    assert info.value.code == "dependency-scope"
    assert "_function_scoped scope 'request'" in str(info.value)


def test_a_generator_left_to_the_default_scope_follows_a_function_scoped_one() -> None:
    events: list[str] = []

    def session() -> Iterator[str]:
        yield "session"
        events.append("session closed")

    session.__trivium_scope__ = "function"  # type: ignore[attr-defined]

    def repository(s: str = Depends(session)) -> Iterator[str]:
        yield f"repository on {s}"
        events.append("repository closed")

    app = App()

    @app.get("/")
    async def index(r: str = Depends(repository)) -> str:
        events.append("handler")
        return r

    assert TestClient(app).get("/").json() == "repository on session"
    # Both closed before the response, the repository first: it holds the session.
    assert events == ["handler", "repository closed", "session closed"]


def test_scope_declared_by_the_dependency_itself_is_checked_too() -> None:
    def session() -> Iterator[str]:
        yield "session"

    session.__trivium_scope__ = "function"  # type: ignore[attr-defined]

    def repository(s: str = Depends(session)) -> Iterator[str]:
        yield s

    repository.__trivium_scope__ = "request"  # type: ignore[attr-defined]

    app = App()

    @app.get("/")
    async def index(r: str = Depends(repository)) -> str:
        return r

    with pytest.raises(ConfigurationError, match="dependency-scope"):
        app.build()


def test_function_scoped_sub_dependency_is_allowed_where_teardown_order_holds() -> None:
    events: list[str] = []

    def inner() -> Iterator[str]:
        yield "inner"
        events.append("inner out")

    def plain(value: str = Depends(inner, scope="function")) -> str:
        return value  # no teardown of its own

    def outer(value: str = Depends(inner, scope="function")) -> Iterator[str]:
        yield value
        events.append("outer out")

    app = App()

    @app.get("/")
    async def index(
        a: str = Depends(plain),
        b: str = Depends(outer, scope="function"),
        c: str = Depends(inner, scope="function"),
    ) -> list[str]:
        return [a, b, c]

    assert TestClient(app).get("/").json() == ["inner", "inner", "inner"]
    assert events == ["outer out", "inner out"]


def test_request_scoped_generator_may_depend_on_request_and_app_scoped_ones() -> None:
    def pool() -> Iterator[str]:
        yield "pool"

    def conn(p: str = Depends(pool, scope="app")) -> Iterator[str]:
        yield f"conn of {p}"

    def holder(c: str = Depends(conn)) -> Iterator[str]:
        yield c

    app = App()

    @app.get("/")
    async def index(h: str = Depends(holder)) -> str:
        return h

    with TestClient(app) as client:
        assert client.get("/").json() == "conn of pool"
