"""trivium.compat mirrors FastAPI's and Starlette's public module paths with trivium's objects."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from pydantic import BaseModel

import trivium
import trivium.compat
from trivium.compat.fastapi import FastAPI
from trivium.testing import TestClient


def _modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(trivium.compat.__path__, "trivium.compat.")
        if not info.name.rpartition(".")[2].startswith("_")
    )


@pytest.mark.parametrize("name", _modules())
def test_every_mirrored_module_exports_what_it_lists(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", [])
    assert exported == sorted(set(exported), key=exported.index)
    for member in exported:
        assert getattr(module, member) is not None, f"{name}.{member}"


def test_the_paths_fastapi_users_import_most_exist() -> None:
    wanted = {
        "fastapi": ["APIRouter", "Depends", "FastAPI", "HTTPException", "Query", "status"],
        "fastapi.middleware.cors": ["CORSMiddleware"],
        "fastapi.responses": ["HTMLResponse", "JSONResponse", "RedirectResponse"],
        "fastapi.security": ["OAuth2PasswordBearer", "OAuth2PasswordRequestForm"],
        "fastapi.testclient": ["TestClient"],
        "starlette.middleware.base": ["BaseHTTPMiddleware"],
        "starlette.requests": ["Request"],
        "starlette.status": ["HTTP_404_NOT_FOUND"],
    }
    for module, names in wanted.items():
        mirrored = importlib.import_module(f"trivium.compat.{module}")
        for name in names:
            assert hasattr(mirrored, name), f"trivium.compat.{module}.{name}"


def test_mirrors_are_trivium_objects_not_copies() -> None:
    from trivium.compat.fastapi import Depends
    from trivium.compat.fastapi import Request
    from trivium.compat.fastapi.testclient import TestClient as CompatTestClient
    from trivium.compat.starlette import status

    assert Depends is trivium.Depends
    assert Request is trivium.Request
    assert CompatTestClient is TestClient
    assert status.HTTP_418_IM_A_TEAPOT == 418


def test_fastapi_is_an_app_titled_like_fastapi() -> None:
    app = FastAPI()
    assert isinstance(app, trivium.App)
    with TestClient(app) as client:
        assert client.get("/openapi.json").json()["info"]["title"] == "FastAPI"
    assert FastAPI(title="Shop").title == "Shop"


def test_a_ported_fastapi_app_serves_requests(tmp_path: Path) -> None:
    from trivium.port import port_source

    source = (
        "from fastapi import Depends, FastAPI, HTTPException\n"
        "from fastapi.testclient import TestClient\n"
        "app = FastAPI()\n"
        "def token(q: str) -> str:\n"
        "    return q\n"
        "@app.get('/items/{item_id}')\n"
        "def read(item_id: int, t: str = Depends(token)) -> dict[str, object]:\n"
        "    if item_id == 0:\n"
        "        raise HTTPException(404, 'no item 0')\n"
        "    return {'id': item_id, 't': t}\n"
    )
    ported = port_source(source, "main.py")
    assert ported.problems == ()
    namespace: dict[str, object] = {}
    exec(compile(ported.source, str(tmp_path / "main.py"), "exec"), namespace)
    with TestClient(namespace["app"]) as client:  # type: ignore[arg-type]
        assert client.get("/items/3?q=x").json() == {"id": 3, "t": "x"}
        assert client.get("/items/0?q=x").status_code == 404
        assert client.get("/items/abc?q=x").status_code == 422


def test_fastapi_redirects_a_trailing_slash_with_307_to_an_absolute_url() -> None:
    app = FastAPI()

    @app.get("/items")
    def items() -> list[int]:
        return [1]

    with TestClient(app) as client:
        response = client.get("/items/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/items"


def test_fastapi_documents_only_fastapis_responses() -> None:
    app = FastAPI()

    @app.post("/items")
    def create(item: dict[str, int]) -> dict[str, int]:
        return item

    with TestClient(app) as client:
        responses = client.get("/openapi.json").json()["paths"]["/items"]["post"]["responses"]
    assert sorted(responses) == ["200", "422"]


class Item(BaseModel):
    name: str
    description: str | None = None


def test_fastapi_openapi_leaves_out_null_values_as_fastapi_does() -> None:
    app = FastAPI()

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    with TestClient(app) as client:
        schema = client.get("/openapi.json").json()["components"]["schemas"]["Item"]
    assert schema["properties"]["description"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "title": "Description",
    }
    assert schema["required"] == ["name"]


def test_trivium_app_keeps_the_null_default_in_its_openapi() -> None:
    app = trivium.App()

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    with TestClient(app) as client:
        schema = client.get("/openapi.json").json()["components"]["schemas"]["Item"]
    assert schema["properties"]["description"]["default"] is None
