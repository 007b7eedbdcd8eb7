"""Generator dependencies of websocket routes: teardown order and the error thrown in."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest

from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium import WebSocket
from trivium import WebSocketDisconnect
from trivium import WebSocketException
from trivium.testing import TestClient


def _tracked(events: list[str], name: str) -> Iterator[str]:
    events.append(f"{name} in")
    try:
        yield name
    except Exception as exc:
        events.append(f"{name} saw {type(exc).__name__}")
        raise
    finally:
        events.append(f"{name} out")


def test_websocket_teardown_closes_function_scope_before_request_scope() -> None:
    events: list[str] = []

    def r1() -> Iterator[str]:
        yield from _tracked(events, "R1")

    def f1() -> Iterator[str]:
        yield from _tracked(events, "F1")

    app = App()

    @app.websocket("/ws")
    async def ws(
        websocket: WebSocket,
        a: str = Depends(r1),
        b: str = Depends(f1, scope="function"),
    ) -> None:
        await websocket.accept()
        await websocket.send_text(a + b)
        await websocket.close()

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive_text() == "R1F1"
    assert events == ["R1 in", "F1 in", "F1 out", "R1 out"]


def test_websocket_disconnect_is_thrown_into_yield_dependencies() -> None:
    events: list[str] = []

    def transaction() -> Iterator[str]:
        yield from _tracked(events, "tx")

    app = App()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, tx: str = Depends(transaction)) -> None:
        await websocket.accept()
        while True:
            await websocket.receive_text()

    with TestClient(app).websocket_connect("/ws") as session:
        session.send_text("hello")
        session.close()
    assert events == ["tx in", "tx saw WebSocketDisconnect", "tx out"]


@pytest.mark.parametrize(
    ("error", "code"),
    [(WebSocketException(4001, "no"), 4001), (HTTPException(403, "no"), 1008)],
)
def test_websocket_handler_exception_is_thrown_into_yield_dependencies(
    error: Exception, code: int
) -> None:
    events: list[str] = []

    def transaction() -> Iterator[str]:
        yield from _tracked(events, "tx")

    app = App()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, tx: str = Depends(transaction, scope="function")) -> None:
        await websocket.accept()
        raise error

    with TestClient(app).websocket_connect("/ws") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
        assert info.value.code == code
    assert events == ["tx in", f"tx saw {type(error).__name__}", "tx out"]


def test_websocket_dependency_may_swallow_the_disconnect() -> None:
    events: list[str] = []

    def quiet() -> Iterator[str]:
        try:
            yield "q"
        except WebSocketDisconnect:
            events.append("swallowed")

    app = App()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, q: str = Depends(quiet)) -> None:
        await websocket.accept()
        await websocket.receive_text()

    with TestClient(app).websocket_connect("/ws") as session:
        session.close()
    assert events == ["swallowed"]


def test_websocket_teardown_error_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Iterator[str]:
        yield "b"
        raise RuntimeError("teardown failed")

    app = App()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, b: str = Depends(broken)) -> None:
        await websocket.accept()
        await websocket.send_text(b)
        await websocket.close()

    with caplog.at_level(logging.ERROR, logger="trivium.error"):
        with TestClient(app).websocket_connect("/ws") as session:
            assert session.receive_text() == "b"
    failures = [r for r in caplog.records if r.getMessage() == "dependency teardown failed"]
    assert len(failures) == 1


def test_websocket_teardown_error_handled_by_an_outer_dependency_is_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def outer() -> Iterator[str]:
        with contextlib.suppress(RuntimeError):  # handled: nothing to log
            yield "o"

    def inner() -> Iterator[str]:
        yield "i"
        raise RuntimeError("commit failed")

    app = App()

    @app.websocket("/ws")
    async def ws(
        websocket: WebSocket,
        o: str = Depends(outer),
        i: str = Depends(inner, scope="function"),
    ) -> None:
        await websocket.accept()
        await websocket.close()

    with caplog.at_level(logging.ERROR, logger="trivium.error"):
        with TestClient(app).websocket_connect("/ws"):
            pass
    assert not caplog.records
