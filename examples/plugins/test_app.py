from __future__ import annotations

import pytest

from examples.plugins.app import app
from examples.plugins.maintenance import Maintenance
from trivium.testing import TestClient


def test_the_plugin_refuses_only_routes_that_take_the_request_while_on() -> None:
    with TestClient(app) as client:
        assert client.get("/orders").headers["x-maintenance"] == "off"
        assert client.get("/status").json() == {"maintenance": False}
        assert client.post("/maintenance/on").json() == {"maintenance": True}
        refused = client.get("/orders")
        assert refused.status_code == 503
        assert refused.json() == {"detail": "Upgrading the shop"}
        assert refused.headers["retry-after"] == "120"
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/status").json() == {"maintenance": True}
        assert client.post("/maintenance/off").status_code == 200
        assert client.get("/orders").status_code == 200


def test_the_plugin_is_found_by_class_and_documents_its_error() -> None:
    assert isinstance(app.plugin(Maintenance), Maintenance)
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["MaintenanceError"]["properties"]["detail"] == {"type": "string"}


def test_the_plugin_adds_a_cli_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from trivium.cli import main

    monkeypatch.setenv("TRIVIUM_APP", "examples.plugins.app:app")
    result = CliRunner().invoke(main, ["maintenance"])
    assert result.exit_code == 0, result.output
    assert result.output == "maintenance is off\n"
