"""Test clients that drive an ASGI app in-process over HTTP, websockets and the lifespan.

```python
from trivium.testing import TestClient

def test_home() -> None:
    with TestClient(app) as client:  # `with` runs the lifespan
        assert client.get("/").status_code == 200
        with client.websocket_connect("/ws") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "hi"
```
"""

from __future__ import annotations

from trivium.testing._client import AsyncTestClient
from trivium.testing._client import TestClient
from trivium.testing._lifespan import LifespanError
from trivium.testing._session import AsyncWebSocketTestSession
from trivium.testing._session import WebSocketTestSession
from trivium.testing._websocket import WebSocketRejected

__all__ = [
    "AsyncTestClient",
    "AsyncWebSocketTestSession",
    "LifespanError",
    "TestClient",
    "WebSocketRejected",
    "WebSocketTestSession",
]
