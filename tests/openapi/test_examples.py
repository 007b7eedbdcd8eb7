"""The document of every example app is valid OpenAPI 3.1."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from trivium import App

pytestmark = pytest.mark.drives_no_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/app.py"))


@pytest.mark.parametrize("name", NAMES)
def test_example_document_is_valid(name: str) -> None:
    module = importlib.import_module(f"examples.{name}.app")
    app = getattr(module, "app", None)
    if not isinstance(app, App):
        pytest.skip(f"examples/{name}/app.py has no trivium App named 'app'")
    document = app.openapi()
    validate(document)
    assert document["paths"]
