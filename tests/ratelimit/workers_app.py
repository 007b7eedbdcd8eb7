"""The app `test_workers.py` serves with 4 worker processes sharing one Redis."""

from __future__ import annotations

import os

from trivium import App
from trivium.ratelimit import RateLimit
from trivium.ratelimit import RateLimits

app = App(
    plugins=[RateLimits(os.environ["RL_TEST_REDIS_URL"], prefix=os.environ["RL_TEST_PREFIX"])],
    openapi_url=None,
)


@app.get("/")
async def ready() -> int:
    return os.getpid()


@app.get("/hit", rate_limit=RateLimit(f"{os.environ['RL_TEST_LIMIT']}/hour", key=lambda r: "all"))
async def hit() -> int:
    return os.getpid()
