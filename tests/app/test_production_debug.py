"""Production mode and debug: a production app never shows tracebacks, it refuses to start."""

from __future__ import annotations

import pytest

from trivium import App
from trivium.conf import Settings
from trivium.errors import ConfigurationError
from trivium.testing import TestClient

KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEF"


@pytest.mark.parametrize("env", ["production", "Production", " PRODUCTION "])
def test_a_debug_app_refuses_to_start_in_production(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", env)
    app = App(debug=True)
    assert app.production
    with pytest.raises(ConfigurationError, match="TRIVIUM_DEBUG=false") as caught:
        TestClient(app).get("/")
    assert caught.value.code == "app-production-debug"


def test_a_debug_app_refuses_to_start_under_production_settings() -> None:
    settings = Settings(env="production", secret_key=KEY, _env_file=())
    app = App(debug=True, plugins=[settings])
    with pytest.raises(ConfigurationError) as caught:
        app.build()
    assert caught.value.code == "app-production-debug"


def test_a_production_app_answers_errors_without_internals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", "production")
    app = App()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    answer = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert (answer.status_code, answer.json()) == (500, {"detail": "Internal Server Error"})


def test_debug_still_shows_tracebacks_outside_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRIVIUM_ENV", raising=False)
    app = App(debug=True)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    answer = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert answer.status_code == 500
    assert "secret internals" in answer.text
