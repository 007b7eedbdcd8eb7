"""An `HTTPException` in a websocket handler closes with a code that says whose fault it is.

A 4xx is the client's fault: 1008 (policy violation). A 503 or a 504 (a service the
handler needs is down or slow: Redis for channels, a database timeout) is 1013 (try
again later), so the client reconnects with backoff instead of giving up; any other
5xx is 1011 (internal error). Over RSGI real servers send every close after `accept()`
as 1005 (docs/websockets.md); the test client's RSGI bridge keeps the code (not the
reason), so the mapping is checked on both interfaces.
"""

from __future__ import annotations

import pytest
from tests.refusals import OVER_RSGI

from trivium import App
from trivium import WebSocket
from trivium import WebSocketDisconnect
from trivium.errors import GatewayTimeout
from trivium.errors import HTTPException
from trivium.errors import ServiceUnavailable
from trivium.testing import TestClient


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (HTTPException(400, "bad input"), 1008),
        (HTTPException(404, "no such room"), 1008),
        (HTTPException(500, "broken"), 1011),
        (HTTPException(502, "upstream broken"), 1011),
        (ServiceUnavailable("the channels backend (Redis) is unreachable"), 1013),
        (GatewayTimeout("the database did not answer in time"), 1013),
        (HTTPException(503, "down"), 1013),
    ],
)
def test_an_http_exception_after_accept_closes_with_the_code_of_its_status(
    error: HTTPException, code: int
) -> None:
    app = App()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise error

    with TestClient(app).websocket_connect("/ws") as session:
        session.send_text("go")
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert info.value.code == code
    if not OVER_RSGI:  # RSGI carries no close reason (the test bridge drops it too)
        assert info.value.reason == str(error.detail)
