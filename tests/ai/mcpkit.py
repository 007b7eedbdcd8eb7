"""Drive an app's MCP endpoint with the official `mcp` SDK client, in-process.

The client's httpx2 client is given an ASGI transport onto the app (or its RSGI bridge
in the RSGI pass), and the app's lifespan runs in the same event loop. Requests go to
`http://localhost`: the MCP endpoint refuses other hosts unless the app lists them.

To use this kit in your own project, copy it and replace `served_app(app)` with `app`:
`served_app` is trivium's private switch that runs its own suite over RSGI too.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from collections.abc import Mapping
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from trivium.testing import AsyncTestClient
from trivium.testing._client import served_app  # your copy: drop it, pass `app` itself

BASE_URL = "http://localhost"


@contextlib.asynccontextmanager
async def mcp_client(
    app: Any,
    headers: Mapping[str, str] | None = None,
    mode: str = "auto",
    path: str = "/mcp",
) -> AsyncIterator[Client]:
    """Run `app` and yield a connected SDK `Client` (protocol negotiated by `mode`)."""
    async with AsyncTestClient(app):
        transport = httpx2.ASGITransport(app=served_app(app))
        async with httpx2.AsyncClient(
            transport=transport, base_url=BASE_URL, headers=dict(headers or {})
        ) as http:
            client = Client(
                streamable_http_client(f"{BASE_URL}{path}", http_client=http),
                mode=mode,  # type: ignore[arg-type]
                cache=None,
            )
            async with client:
                yield client


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[httpx2.AsyncClient]:
    """Run `app` and yield a plain httpx2 client onto it (raw HTTP to `/mcp`)."""
    async with AsyncTestClient(app):
        transport = httpx2.ASGITransport(app=served_app(app))
        async with httpx2.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield http
