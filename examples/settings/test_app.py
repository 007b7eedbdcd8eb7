from __future__ import annotations

from pathlib import Path

import pytest

from examples.settings.app import Settings
from examples.settings.app import create_app
from trivium.testing import TestClient


def test_each_test_builds_the_app_with_its_own_settings(tmp_path: Path) -> None:
    settings = Settings(page_size=5, database_url=f"sqlite:///{tmp_path / 'test.db'}")
    with TestClient(create_app(settings)) as client:
        assert client.get("/about").json() == {"env": "development", "page_size": 5}


def test_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIVIUM_ENV", raising=False)
    (tmp_path / ".env").write_text("TRIVIUM_PAGE_SIZE=50\nTRIVIUM_DATABASE_URL=sqlite://\n")
    with TestClient(create_app()) as client:
        assert client.get("/about").json()["page_size"] == 50
