"""Rates the Redis script cannot count are refused where they are written."""

from __future__ import annotations

import pytest
from tests.ratelimit.conftest import LimitsFactory

from trivium import App
from trivium.errors import ConfigurationError
from trivium.ratelimit import RateLimit
from trivium.testing import TestClient


@pytest.mark.parametrize(
    ("rate", "says"),
    [
        ("1/100000000000000000 days", "a period of more than 366 days"),
        ("1/367 days", "a period of more than 366 days"),
        ("2000001/2 seconds", "more than one request per microsecond"),
    ],
)
def test_a_rate_beyond_the_counter_is_refused(rate: str, says: str) -> None:
    with pytest.raises(ConfigurationError, match=says) as refused:
        RateLimit(rate)
    assert refused.value.code == "ratelimit-rate"


def test_the_longest_period_counts_on_every_backend(make_limits: LimitsFactory) -> None:
    app = App(plugins=[make_limits()])

    @app.get("/yearly", rate_limit="1/366 days")
    async def yearly() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        assert [client.get("/yearly").status_code for _ in range(2)] == [200, 429]
