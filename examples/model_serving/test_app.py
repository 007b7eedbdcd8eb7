from __future__ import annotations

import asyncio

import pytest

from examples.model_serving import app as example
from trivium.testing import AsyncTestClient
from trivium.testing import TestClient

SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
VIRGINICA = {"sepal_length": 7.7, "sepal_width": 3.0, "petal_length": 6.1, "petal_width": 2.3}


def test_a_flower_is_classified_batched_or_not() -> None:
    with TestClient(example.app) as client:
        for path in ("/predict", "/predict/unbatched"):
            assert client.post(path, json=SETOSA).json() == {"species": "setosa"}
            assert client.post(path, json=VIRGINICA).json() == {"species": "virginica"}
        bad = client.post("/predict", json={**SETOSA, "petal_width": -1})
        assert bad.status_code == 422


@pytest.mark.anyio
async def test_concurrent_requests_share_model_calls() -> None:
    batcher = example.classify.batcher  # type: ignore[attr-defined]
    async with AsyncTestClient(example.app) as client:
        before = batcher.batches
        flowers = [SETOSA, VIRGINICA] * 32
        answers = await asyncio.gather(*(client.post("/predict", json=f) for f in flowers))
    assert [a.json()["species"] for a in answers] == ["setosa", "virginica"] * 32
    assert batcher.batches - before < len(flowers) // 4  # a few calls, not 64


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
