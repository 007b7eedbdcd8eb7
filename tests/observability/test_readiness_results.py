"""What a readiness check returns decides whether `/readyz` answers 200 or 503."""

from __future__ import annotations

from typing import Any

import pytest

from trivium import App
from trivium.errors import ConfigurationError
from trivium.observability import Observability
from trivium.testing import TestClient


def _readyz(result: object) -> Any:
    async def check() -> object:
        return result

    app = App(plugins=[Observability(checks={"queue": check})])
    with TestClient(app) as client:
        return client.get("/readyz")


@pytest.mark.parametrize("result", [None, True])
def test_none_and_true_are_ready(result: object) -> None:
    response = _readyz(result)
    assert response.status_code == 200
    assert response.json()["checks"]["queue"] == "ok"


def test_false_is_not_ready() -> None:
    response = _readyz(False)
    assert response.status_code == 503
    assert response.json()["checks"]["queue"] == "returned False"


def test_a_string_is_the_problem() -> None:
    response = _readyz("queue is full")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"] == "queue is full"


def test_a_plain_function_is_refused_at_construction() -> None:
    def queue() -> None:
        return None

    with pytest.raises(ConfigurationError, match="'queue'.*async"):
        Observability(checks={"queue": queue})  # type: ignore[dict-item]


def test_an_async_callable_object_is_accepted() -> None:
    class Queue:
        async def __call__(self) -> None:
            return None

    app = App(plugins=[Observability(checks={"queue": Queue()})])
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
