"""Rate limiting: per-route limits, a router budget, an app-wide default, a websocket.

Counters live in Redis when `RATELIMIT_REDIS` is set (shared exactly by every worker
process), else in this process's memory.

    trivium run examples.ratelimit.app:app
    RATELIMIT_REDIS=redis://localhost:6379/0 trivium run examples.ratelimit.app:app --workers 4
"""

from __future__ import annotations

import os

from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium import Request
from trivium import Router
from trivium import WebSocket
from trivium.middleware import Middleware
from trivium.middleware import ProxyHeadersMiddleware
from trivium.ratelimit import RateLimit
from trivium.ratelimit import RateLimits
from trivium.ratelimit import by_ip

limits = RateLimits(
    os.environ.get("RATELIMIT_REDIS"),  # None: this process's memory
    default="1000/hour",  # every route without a rate_limit of its own, one budget per client
    fail_open=True,  # Redis down: serve unlimited and log it (False: answer 503)
)
app = App(
    plugins=[limits],
    # Client addresses from X-Forwarded-For, believed only from your own proxy.
    middleware=[Middleware(ProxyHeadersMiddleware, trusted_proxies=["127.0.0.1"])],
)


@app.get("/search", rate_limit=[RateLimit("5/second"), RateLimit("100/minute")])
async def search(q: str = "") -> dict[str, str]:
    """A burst of 5 a second, and no more than 100 a minute."""
    return {"q": q}


async def by_api_key(request: Request) -> str | None:
    """Key by the caller's API key; requests without one are not limited here."""
    return request.headers.get("x-api-key")


def require_key(request: Request) -> None:
    if request.headers.get("x-api-key") not in {"demo-key", "other-key"}:
        raise HTTPException(401, "send a valid X-Api-Key header")


# Every route of the router spends from the API key's budget ("api" scope).
api = Router(rate_limit=RateLimit("10/minute", key=by_api_key, scope="api"))


@api.get("/reports", dependencies=[Depends(require_key)])
async def reports() -> list[str]:
    return ["q1", "q2"]


@api.post(
    "/exports",
    dependencies=[Depends(require_key)],
    rate_limit=RateLimit("10/minute", key=by_api_key, scope="api", cost=5),
)
async def export() -> dict[str, str]:
    """Counts as 5 requests of the API key's budget."""
    return {"status": "started"}


app.include_router(api, prefix="/api")


@app.post("/contact", dependencies=[Depends(RateLimit("3/hour", key=by_ip))])
async def contact() -> dict[str, bool]:
    """A limit as a dependency works on any route (the plugin must be installed)."""
    return {"sent": True}


@app.get("/health", rate_limit=False)
async def health() -> str:
    """Exempt from the default."""
    return "ok"


@app.websocket("/chat", rate_limit=RateLimit("20/10 seconds", per_message=True))
async def chat(websocket: WebSocket) -> None:
    """Each received message counts; past the limit the socket closes with 1008."""
    await websocket.accept()
    while True:
        await websocket.send_text(await websocket.receive_text())
