"""The app of the deployment test: sessions in Redis, observability, behind a proxy."""

from __future__ import annotations

import os

from trivium import App
from trivium import Request
from trivium.middleware import Middleware
from trivium.middleware import ProxyHeadersMiddleware
from trivium.observability import Observability
from trivium.sessions import Sessions
from trivium.stores import RedisStore

store = RedisStore(os.environ["TRIVIUM_TEST_REDIS_URL"], prefix="deploy-test:")
app = App(
    plugins=[
        Sessions(secret_key="deployment-test-secret-key-0123456789abcdef", store=store),
        Observability(trusted_proxies=["127.0.0.1"], access_log=True),
    ],
    middleware=[Middleware(ProxyHeadersMiddleware, trusted_proxies=["127.0.0.1"])],
)


@app.get("/count")
async def count(request: Request) -> dict[str, object]:
    request.session["n"] = int(request.session.get("n", 0)) + 1
    return {
        "n": request.session["n"],
        "server": os.environ.get("TRIVIUM_PORT", ""),
        "client": request.client.host if request.client else None,
        "scheme": request.url.scheme,
    }
