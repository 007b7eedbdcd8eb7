"""Logs, metrics and health checks for an app with a database (docs/observability.md)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trivium import App
from trivium.db import Database
from trivium.observability import Observability

log = logging.getLogger("shop")
db = Database(
    os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///./shop.db"),
    migrations=Path(__file__).parent / "migrations",
)


async def payment_provider() -> str | None:
    """A project check: return what is wrong, or None when ready."""
    return None


observability = Observability(
    metrics=True,  # GET /metrics, for Prometheus
    access_log=True,  # one line per request, logger "trivium.access"
    trusted_proxies=["127.0.0.1", "10.0.0.0/8"],  # whose X-Forwarded-For is believed
    checks={"payments": payment_provider},  # /readyz runs it with the database checks
)
app = App(plugins=[db, observability])


@app.get("/orders/{order_id}")
async def order(order_id: int, session: AsyncSession = db.depends()) -> dict[str, int]:
    await session.execute(select(1))
    log.info("order %d read", order_id)  # carries the request ID in every format
    return {"order": order_id}
