"""Template fixtures: a directory of templates per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.templating.helpers import WriteTemplates


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def write_templates(tmp_path: Path) -> WriteTemplates:
    """Write `{name: source}` under a fresh directory and return it."""

    def write(files: dict[str, str], folder: str = "templates") -> Path:
        root = tmp_path / folder
        for name, source in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source, encoding="utf-8")
        root.mkdir(exist_ok=True)
        return root

    return write
