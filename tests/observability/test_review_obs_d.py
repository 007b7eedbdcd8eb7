"""`/readyz`: each check within its own timeout; the results keep their order."""

from __future__ import annotations

import anyio

from trivium import App
from trivium.observability import Observability
from trivium.testing import TestClient


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
