from __future__ import annotations

import pytest

from examples.guide.app_options import app
from examples.guide.app_options import same_app
from trivium import App
from trivium import DocsConfig
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


def test_keywords_fill_the_groups() -> None:
    assert app.docs_config == same_app.docs_config
    assert app.http_config == same_app.http_config
    assert app.http_config.limits.max_body_size == 1_000_000


def test_the_app_serves_with_its_options() -> None:
    client = TestClient(app)
    assert client.get("/items").json() == ["hat", "scarf"]
    assert client.get("/api/docs").status_code == 200
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").json()["servers"] == [{"url": "/shop"}]


def test_attributes_read_and_replace_the_group() -> None:
    shop = App(title="Shop")
    shop.title = "Shop (staging)"
    assert shop.docs_config.title == "Shop (staging)"


def test_one_option_two_values_is_refused() -> None:
    with pytest.raises(ConfigurationError) as info:
        App(title="Shop", docs=DocsConfig(title="Store"))
    assert info.value.code == "app-docs-config"
