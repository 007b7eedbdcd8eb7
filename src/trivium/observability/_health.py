"""`/livez` and `/readyz`: is the process alive, and can it serve traffic?

`/livez` answers 200 as long as the worker's event loop runs (an orchestrator restarts
the process when it does not). `/readyz` checks what requests need: each database
answers and has applied its migrations, each store (sessions, throttling: Redis or a
database) answers, and every check the project added; any failure answers 503 with the
failing check named, so a load balancer keeps traffic away until it passes.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

import anyio

from trivium.http import JSONResponse

if TYPE_CHECKING:
    from trivium.app import App

__all__ = ["Check", "check_problems", "readiness_checks", "run_checks"]

logger = logging.getLogger("trivium.observability")

Check = Callable[[], Awaitable[object]]
"""A readiness check: an `async def` without arguments.

It passes when it returns `None` or `True`; it fails when it raises, returns `False`
(reported as "returned False") or returns a string (the string is the problem).
"""


def check_problems(checks: Mapping[str, Check]) -> list[str]:
    """Return the names of `checks` that are not coroutine functions (they cannot be awaited)."""
    return [
        name
        for name, check in checks.items()
        if not (
            inspect.iscoroutinefunction(check) or inspect.iscoroutinefunction(type(check).__call__)
        )
    ]


def _problem(result: object) -> str | None:
    if result is None or result is True:
        return None
    if result is False:
        return "returned False"
    if isinstance(result, str):
        return result or "returned an empty string"
    return None


def readiness_checks(app: App, extra: Mapping[str, Check]) -> dict[str, Check]:
    """Return the checks of `app`'s databases and stores, then `extra`."""
    checks: dict[str, Check] = {}
    if "trivium.db" in sys.modules:
        from trivium.db import Database

        for database in app.plugins_of(Database):
            checks[f"database:{database.name}"] = _database_check(database)
    seen: set[int] = set()
    for plugin in app.plugins:
        for attribute in ("store", "throttle_store"):
            store = getattr(plugin, attribute, None)
            if store is None or id(store) in seen or not callable(getattr(store, "get", None)):
                continue
            seen.add(id(store))
            checks[f"store:{type(store).__name__}"] = _store_check(store)
    checks.update(extra)
    return checks


def _database_check(database: Any) -> Check:
    from sqlalchemy import text

    async def check() -> str | None:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        pending = await database.pending_migrations()
        if pending:
            return f"unapplied migrations: {', '.join(pending)} (run: trivium db migrate)"
        return None

    return check


def _store_check(store: Any) -> Check:
    async def check() -> None:
        await store.get("trivium:readyz")

    return check


async def run_checks(checks: Mapping[str, Check], seconds: float) -> JSONResponse:
    """Run every check (each within `seconds`) and answer 200 or 503."""
    results: dict[str, str] = {}
    problem: str | None
    for name, check in checks.items():
        try:
            with anyio.fail_after(seconds):
                problem = _problem(await check())
        except TimeoutError:
            problem = f"no answer within {seconds:g} s"
        except Exception as exc:  # noqa: BLE001 - any failure makes the app not ready
            logger.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
            problem = f"failed ({type(exc).__name__}; details in the server log)"
        results[name] = problem or "ok"
    ready = all(value == "ok" for value in results.values())
    body = {"status": "ok" if ready else "unavailable", "checks": results}
    return JSONResponse(body, status_code=200 if ready else 503)
