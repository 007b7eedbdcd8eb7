"""`/readyz` runs its checks concurrently, each within its own timeout."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable

import anyio

from trivium import App
from trivium.observability import Observability
from trivium.testing import TestClient


def test_readiness_checks_run_concurrently() -> None:
    # Each check waits for the other to start: run one after the other, the first
    # would wait until its timeout.
    started: dict[str, anyio.Event] = {}

    def waiting_for(other: str, own: str) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            started.setdefault(own, anyio.Event()).set()
            await started.setdefault(other, anyio.Event()).wait()

        return check

    checks = {"left": waiting_for("right", "left"), "right": waiting_for("left", "right")}
    app = App(plugins=[Observability(checks=checks, check_timeout=5)])
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"left": "ok", "right": "ok"}}


def test_a_check_past_its_timeout_fails_alone_and_results_keep_their_order() -> None:
    async def stuck() -> None:
        await anyio.sleep_forever()

    async def fine() -> None:
        return None

    async def full() -> str:
        return "queue is full"

    checks = {"stuck": stuck, "fine": fine, "full": full}
    app = App(plugins=[Observability(checks=checks, check_timeout=0.05)])
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert list(body["checks"]) == ["stuck", "fine", "full"]
    assert body["checks"] == {
        "stuck": "no answer within 0.05 s",
        "fine": "ok",
        "full": "queue is full",
    }
