from __future__ import annotations

from pathlib import Path

import pytest

from examples.observability import app as example
from trivium.testing import TestClient


@pytest.fixture(autouse=True)
def _database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # shop.db goes to the test's folder


def test_request_ids_metrics_and_health() -> None:
    with TestClient(example.app) as client:
        response = client.get("/orders/7", headers={"X-Request-ID": "abc-123"})
        assert response.json() == {"order": 7}
        assert response.headers["x-request-id"] == "abc-123"
        metrics = client.get("/metrics").text
        assert (
            'trivium_requests_total{method="GET",route="/orders/{order_id}",status="200"} 1.0'
            in metrics
        )
        assert client.get("/livez").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready == {"status": "ok", "checks": {"database:default": "ok", "payments": "ok"}}
