"""`trivium.http.app_path`: the path within the app, without a proxy's prefix (public API)."""

from __future__ import annotations

from typing import Any

import pytest

from trivium import App
from trivium.http import app_path
from trivium.testing import TestClient


@pytest.mark.parametrize(
    ("path", "root", "expected"),
    [
        ("/api/items", "/api", "/items"),  # uvicorn: the prefix is in `path`
        ("/items", "/api", "/items"),  # Granian: it is not
        ("/api", "/api", "/"),
        ("/api/", "/api/", "/"),
        ("/apiary", "/api", "/apiary"),  # whole segments only
        ("/items", "", "/items"),
        ("/items", "/", "/items"),
    ],
)
def test_app_path(path: str, root: str, expected: str) -> None:
    assert app_path({"type": "http", "path": path, "root_path": root}) == expected


@pytest.mark.asgi_only("RSGI has no root_path")
def test_middleware_sees_the_path_the_router_matches() -> None:
    seen: list[str] = []

    class Record:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                seen.append(app_path(scope))
            await self.app(scope, receive, send)

    app = App(root_path="/api")
    app.add_middleware(Record)

    @app.get("/items")
    async def items() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app, root_path="/api") as client:
        assert client.get("/items").json() == {"ok": True}
        assert client.get("/apiary").status_code == 404
    assert seen == ["/items", "/apiary"]
