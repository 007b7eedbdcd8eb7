"""RequestIDMiddleware and RequestIDLogFilter."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from trivium import App
from trivium import Request
from trivium import WebSocket
from trivium.errors import ConfigurationError
from trivium.middleware import Middleware
from trivium.middleware import RequestIDLogFilter
from trivium.middleware import RequestIDMiddleware
from trivium.middleware import current_request_id
from trivium.responses import PlainTextResponse
from trivium.testing import TestClient

HEX32 = re.compile(r"[0-9a-f]{32}")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.addFilter(RequestIDLogFilter())
        self.setFormatter(logging.Formatter("%(request_id)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def make_client(**options: Any) -> TestClient:
    app = App(middleware=[Middleware(RequestIDMiddleware, **options)], openapi_url=None)
    log = logging.getLogger("tests.request_id")

    @app.get("/")
    async def index(request: Request) -> dict[str, Any]:
        log.warning("async handler")
        return {"state": request.state.request_id, "context": current_request_id()}

    @app.get("/sync")
    def sync_handler() -> dict[str, Any]:
        log.warning("sync handler")
        return {"context": current_request_id()}

    @app.get("/own")
    async def own() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"x-request-id": "set-by-app"})

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.state.request_id)
        await websocket.close()

    return TestClient(app)


def test_generated_id_is_in_state_context_and_response() -> None:
    response = make_client().get("/")
    rid = response.headers["x-request-id"]
    assert HEX32.fullmatch(rid)
    assert response.json() == {"state": rid, "context": rid}


def test_each_request_gets_its_own_id() -> None:
    client = make_client()
    assert client.get("/").headers["x-request-id"] != client.get("/").headers["x-request-id"]


@pytest.mark.parametrize(
    "value", ["abc-123", "trace:4bf92f3577b34da6a3ce929d0e0e4736", "a.b_c+d/e="]
)
def test_well_formed_incoming_id_is_accepted(value: str) -> None:
    response = make_client().get("/", headers={"x-request-id": value})
    assert response.headers["x-request-id"] == value
    assert response.json()["state"] == value


@pytest.mark.parametrize("value", ["a b", "x" * 129, "<script>", "ü", "id;drop", ""])
def test_malformed_incoming_id_is_replaced(value: str) -> None:
    response = make_client().get("/", headers=[(b"x-request-id", value.encode("utf-8"))])
    assert HEX32.fullmatch(response.headers["x-request-id"])


def test_incoming_id_ignored_when_not_trusted() -> None:
    response = make_client(trust_incoming=False).get("/", headers={"x-request-id": "abc"})
    assert HEX32.fullmatch(response.headers["x-request-id"])


def test_custom_header_and_length() -> None:
    client = make_client(header="X-Correlation-ID", max_length=8)
    assert (
        client.get("/", headers={"x-correlation-id": "12345678"}).headers["x-correlation-id"]
        == "12345678"
    )
    assert (
        client.get("/", headers={"x-correlation-id": "123456789"}).headers["x-correlation-id"]
        != "123456789"
    )
    assert "x-request-id" not in client.get("/").headers


def test_header_set_by_the_app_is_kept() -> None:
    response = make_client().get("/own")
    assert response.headers.get_list("x-request-id") == ["set-by-app"]


def test_log_records_carry_the_id_in_async_and_sync_handlers() -> None:
    handler = Collect()
    logger = logging.getLogger("tests.request_id")
    logger.addHandler(handler)
    try:
        client = make_client()
        first = client.get("/", headers={"x-request-id": "req-1"})
        second = client.get("/sync", headers={"x-request-id": "req-2"})
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    assert first.status_code == second.status_code == 200
    assert second.json() == {"context": "req-2"}
    assert handler.lines == ["req-1 async handler", "req-2 sync handler", "- outside"]


def test_context_is_reset_after_the_request() -> None:
    make_client().get("/")
    assert current_request_id() is None


def test_websocket_gets_an_id_in_state() -> None:
    with make_client().websocket_connect("/ws", headers={"x-request-id": "ws-1"}) as session:
        assert session.receive_text() == "ws-1"


@pytest.mark.parametrize(
    "options", [{"header": "bad header"}, {"max_length": 0}, {"max_length": 500}]
)
def test_invalid_configuration_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        RequestIDMiddleware(make_client().app, **options)
    assert info.value.code == "request-id-option"
