"""docs/migrate-from-fastapi.md says what trivium.compat does: its claims checked here."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from pydantic import BaseModel

from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi.testclient import TestClient

GUIDE = (Path(__file__).parents[2] / "docs" / "migrate-from-fastapi.md").read_text()


def _section(start: str, end: str) -> str:
    return GUIDE[GUIDE.index(start) : GUIDE.index(end, GUIDE.index(start))]


class Item(BaseModel):
    name: str


def test_modules_the_guide_calls_unmirrored_have_no_mirror() -> None:
    unmirrored = _section("**FastAPI's internals**", "not mirrored")
    modules = re.findall(r"`((?:fastapi|starlette)\.[\w.]+?)(?:\.\*)?`", unmirrored)
    assert "fastapi.dependencies" in modules
    mirrored = [m for m in modules if importlib.util.find_spec(f"trivium.compat.{m}") is not None]
    assert mirrored == []


def test_the_guide_gives_the_compat_answer_to_json_without_content_type() -> None:
    row = next(line for line in GUIDE.splitlines() if line.startswith("| JSON body without"))
    compat_cell = row.split(" | ")[1]
    app = FastAPI()

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    response = TestClient(app).post("/items", content=b'{"name": "x"}')
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "model_attributes_type"
    assert compat_cell.startswith("422 (`model_attributes_type`)")


def test_the_serving_step_warns_of_the_rsgi_websocket_close_code() -> None:
    step = _section("### Step 4: serve with `trivium run`", "### Step 5")
    assert "1005" in step
    assert "websockets.md#close-codes-over-rsgi" in step
