"""A misuse found while the app is built stops it, under the test clients and a server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.live import environment
from tests.live import free_port

from trivium import App
from trivium.errors import ConfigurationError
from trivium.testing import AsyncTestClient
from trivium.testing import TestClient

MISUSED = """
from trivium import App

app = App()


@app.get("/{x}")
async def handler(y: int) -> dict[str, int]:
    return {"y": y}
"""


def misused_app() -> App:
    app = App()

    @app.get("/{x}")
    async def handler(y: int) -> dict[str, int]:
        return {"y": y}

    return app


@pytest.mark.parametrize("raise_server_exceptions", [True, False])
def test_the_first_request_raises_the_configuration_error(raise_server_exceptions: bool) -> None:
    client = TestClient(misused_app(), raise_server_exceptions=raise_server_exceptions)
    with pytest.raises(ConfigurationError) as caught:
        client.get("/1")
    assert caught.value.code == "path-param-unused"


@pytest.mark.parametrize("raise_server_exceptions", [True, False])
def test_the_lifespan_start_up_raises_the_configuration_error(
    raise_server_exceptions: bool,
) -> None:
    client = TestClient(misused_app(), raise_server_exceptions=raise_server_exceptions)
    with pytest.raises(ConfigurationError, match="path-param-unused"), client:
        pytest.fail("the client started an app that can't be built")


@pytest.mark.anyio
async def test_the_async_client_raises_it_too() -> None:
    client = AsyncTestClient(misused_app(), raise_server_exceptions=False)
    with pytest.raises(ConfigurationError, match="path-param-unused"):
        await client.get("/1")


def test_a_working_app_still_answers_500_for_a_handler_error() -> None:
    app = App()

    @app.get("/")
    async def boom() -> None:
        raise ValueError("handler bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 500


@pytest.mark.live
@pytest.mark.asgi_only("uvicorn speaks ASGI")
def test_uvicorn_refuses_to_start_a_misused_app(tmp_path: Path) -> None:
    (tmp_path / "misused.py").write_text(MISUSED)
    command = [sys.executable, "-m", "uvicorn", "misused:app", "--port", str(free_port())]
    done = subprocess.run(  # noqa: S603 - the test's own command
        command,
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "path-param-unused" in done.stderr
    assert "Application startup failed" in done.stderr
