"""The observer plugin times answers of every kind, errors included."""

from __future__ import annotations

from examples.plugins.timing import app
from trivium.testing import TestClient


def test_every_answer_says_how_long_the_app_took() -> None:
    with TestClient(app) as client:
        answers = [client.get("/"), client.get("/items/3"), client.get("/items/three")]
    assert [a.status_code for a in answers] == [200, 200, 422]
    for answer in answers:
        name, _, duration = answer.headers["server-timing"].partition(";dur=")
        assert name == "app"
        assert 0 <= float(duration) < 5000
