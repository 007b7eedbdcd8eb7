"""End-to-end: a FastAPI application runs on trivium after changing only its imports.

`fastapi_app.py` is FastAPI code whose import lines point at trivium. Every test here
runs against it, and, when FastAPI is installed, against the very same module body
with the original FastAPI imports put back, so the suite proves that the two
frameworks answer alike. Where trivium differs on purpose the test says so.
"""

from __future__ import annotations

import importlib.util
import re
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e import fastapi_app

from trivium.testing import TestClient

SOURCE = Path(fastapi_app.__file__).read_text(encoding="utf-8")
ALICE = {"x-token": "alice-token"}
BOB = {"x-token": "bob-token"}

# The trivium import lines and the FastAPI lines they replace.
FASTAPI_IMPORTS = {
    "from trivium import App as FastAPI": "from fastapi import FastAPI",
    "from trivium import Router as APIRouter": "from fastapi import APIRouter",
    "from trivium.responses import": "from fastapi.responses import",
    "from trivium import": "from fastapi import",
}


def fastapi_source() -> str:
    """Return `fastapi_app.py` with its imports turned back into FastAPI's."""
    lines = []
    for line in SOURCE.splitlines():
        for trivium_import, fastapi_import in FASTAPI_IMPORTS.items():
            if line.startswith(trivium_import):
                line = fastapi_import + line[len(trivium_import) :]
                break
        lines.append(line)
    return "\n".join(lines) + "\n"


def load_under_fastapi() -> types.ModuleType:
    module = types.ModuleType("fastapi_app_on_fastapi")
    code = compile(fastapi_source(), "fastapi_app_on_fastapi.py", "exec")
    exec(code, module.__dict__)  # the module body, unchanged, with FastAPI's imports
    return module


@pytest.fixture(params=["trivium", "fastapi"])
def framework(request: pytest.FixtureRequest) -> str:
    if request.param == "fastapi" and importlib.util.find_spec("fastapi") is None:
        pytest.skip("FastAPI is not installed; the comparison run is skipped")
    return str(request.param)


@pytest.fixture
def module(framework: str) -> types.ModuleType:
    if framework == "trivium":
        fastapi_app.db.reset()
        return fastapi_app
    return load_under_fastapi()


@pytest.fixture
def client(module: types.ModuleType) -> Iterator[TestClient]:
    # trivium's TestClient drives any ASGI app, the FastAPI one included.
    with TestClient(module.app) as client:
        yield client


# --- the port itself ----------------------------------------------------------------------


def test_only_import_lines_mention_trivium() -> None:
    code_lines = [
        line
        for line in SOURCE.split('"""', 2)[2].splitlines()
        if "trivium" in line and not line.lstrip().startswith("#")
    ]
    assert code_lines
    assert all(re.match(r"from trivium(\.\w+)? import \w+", line) for line in code_lines)


def test_the_fastapi_variant_differs_in_import_lines_only() -> None:
    ours, theirs = SOURCE.splitlines(), fastapi_source().splitlines()
    changed = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    assert len(changed) == 12
    assert all(a.startswith("from trivium") and b.startswith("from fastapi") for a, b in changed)


# --- happy paths --------------------------------------------------------------------------


def test_lifespan_runs_around_the_client_block(module: types.ModuleType) -> None:
    with TestClient(module.app) as client:
        assert module.db.events == ["startup"]
        assert client.get("/health").json() == {"status": "ok"}
    assert module.db.events == ["startup", "shutdown"]


def test_create_item_returns_201_filtered_by_the_response_model(client: TestClient) -> None:
    response = client.post(
        "/items/",
        json={"name": "hammer", "price": 9.5, "tags": ["tools"], "supplier_secret": "s3cret"},
        headers=ALICE,
    )
    assert response.status_code == 201
    assert response.json() == {
        "id": 1,
        "name": "hammer",
        "price": 9.5,
        "tags": ["tools"],
        "owner": "alice",
    }


def test_create_item_runs_its_background_task(client: TestClient, module: types.ModuleType) -> None:
    client.post("/items/", json={"name": "saw", "price": 20}, headers=BOB)
    assert module.db.audit == ["bob created item 1"]


def test_yield_dependency_commits_and_closes_after_success(
    client: TestClient, module: types.ModuleType
) -> None:
    client.post("/items/", json={"name": "saw", "price": 20}, headers=BOB)
    assert module.db.events[1:] == ["session opened", "session committed", "session closed"]
    assert client.get("/items/1", headers=BOB).json()["name"] == "saw"


def test_list_items_uses_class_dependency_and_query_filter(client: TestClient) -> None:
    for name in ("hammer", "hacksaw", "drill"):
        client.post("/items/", json={"name": name, "price": 1}, headers=ALICE)
    assert [i["name"] for i in client.get("/items/", headers=ALICE).json()] == [
        "hammer",
        "hacksaw",
        "drill",
    ]
    found = client.get("/items/", params={"q": "ha", "skip": 1}, headers=ALICE).json()
    assert [i["name"] for i in found] == ["hacksaw"]
    page = client.get("/items/", params={"limit": 1}, headers=ALICE).json()
    assert [i["name"] for i in page] == ["hammer"]


def test_patch_applies_only_the_sent_fields(client: TestClient) -> None:
    client.post("/items/", json={"name": "hammer", "price": 9.5, "tags": ["a"]}, headers=ALICE)
    response = client.patch("/items/1", json={"price": 12}, headers=ALICE)
    assert response.status_code == 200
    assert response.json()["price"] == 12.0
    assert response.json()["tags"] == ["a"]


def test_embedded_body_fields(client: TestClient) -> None:
    client.post("/items/", json={"name": "hammer", "price": 9.5}, headers=ALICE)
    response = client.post("/items/1/price", json={"price": 3, "reason": "sale"}, headers=ALICE)
    assert response.json() == {"id": 1, "price": 3.0, "reason": "sale"}


def test_delete_returns_an_empty_204(client: TestClient) -> None:
    client.post("/items/", json={"name": "hammer", "price": 9.5}, headers=ALICE)
    response = client.delete("/items/1", headers=ALICE)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/items/1", headers=ALICE).status_code == 404


def test_users_me_hides_fields_outside_the_response_model(client: TestClient) -> None:
    assert client.get("/users/me", headers=BOB).json() == {"username": "bob", "full_name": None}


def test_users_router_without_router_dependency(client: TestClient) -> None:
    client.post("/items/", json={"name": "hammer", "price": 9.5}, headers=ALICE)
    assert client.get("/users/me/items", headers=BOB).json() == []
    assert len(client.get("/users/me/items", headers=ALICE).json()) == 1


# --- failures -----------------------------------------------------------------------------


def test_http_exception_404_from_a_handler(client: TestClient) -> None:
    response = client.get("/items/42", headers=ALICE)
    assert response.status_code == 404
    assert response.json() == {"detail": "Item 42 not found"}


def test_yield_dependency_sees_the_handler_error_and_rolls_back(
    client: TestClient, module: types.ModuleType
) -> None:
    client.get("/items/42", headers=ALICE)
    assert module.db.events[1:] == ["session opened", "session rolled back", "session closed"]


def test_router_dependency_rejects_a_bad_token_with_401_and_headers(client: TestClient) -> None:
    response = client.get("/items/", headers={"x-token": "nope"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Token"
    assert response.json() == {"detail": "Invalid X-Token header"}


def test_missing_header_is_a_422(client: TestClient) -> None:
    response = client.get("/items/")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"], error["msg"]) == (
        "missing",
        ["header", "x-token"],
        "Field required",
    )


def test_missing_field_reports_null_input(client: TestClient) -> None:
    [error] = client.get("/items/").json()["detail"]
    assert error["input"] is None


def test_path_constraint_violation_is_a_422(client: TestClient) -> None:
    response = client.get("/items/0", headers=ALICE)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "greater_than",
                "loc": ["path", "item_id"],
                "msg": "Input should be greater than 0",
                "input": "0",
                "ctx": {"gt": 0},
            }
        ]
    }


def test_every_invalid_query_parameter_is_reported(client: TestClient) -> None:
    response = client.get("/items/", params={"skip": -1, "limit": 500}, headers=ALICE)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["query", "skip"], "greater_than_equal"),
        (["query", "limit"], "less_than_equal"),
    ]


def test_body_errors_point_into_the_model(client: TestClient) -> None:
    response = client.post("/items/", json={"name": "", "price": -1, "tags": "x"}, headers=ALICE)
    assert response.status_code == 422
    assert [(e["loc"], e["type"]) for e in response.json()["detail"]] == [
        (["body", "name"], "string_too_short"),
        (["body", "price"], "greater_than"),
        (["body", "tags"], "list_type"),
    ]


def test_missing_body_is_a_422_at_body(client: TestClient) -> None:
    response = client.post("/items/", headers=ALICE)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("missing", ["body"])


def test_missing_embedded_field_is_a_422(client: TestClient) -> None:
    client.post("/items/", json={"name": "hammer", "price": 9.5}, headers=ALICE)
    response = client.post("/items/1/price", json={"price": 3}, headers=ALICE)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("missing", ["body", "reason"])


def test_failed_validation_calls_no_handler_and_no_background_task(
    client: TestClient, module: types.ModuleType
) -> None:
    client.post("/items/", json={"name": "x"}, headers=ALICE)
    assert module.db.items == {}
    assert module.db.audit == []


def test_custom_exception_handler_answers_409(client: TestClient) -> None:
    client.post("/items/", json={"name": "hammer", "price": 9.5}, headers=ALICE)
    response = client.patch("/items/1", json={"price": 1}, headers=BOB)
    assert response.status_code == 409
    assert response.json() == {"detail": "Item 1 belongs to someone else"}
    assert client.get("/items/1", headers=ALICE).json()["price"] == 9.5


def test_unknown_path_is_a_404(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_wrong_method_is_a_405(client: TestClient) -> None:
    response = client.put("/health")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


def test_missing_trailing_slash_redirects(client: TestClient, framework: str) -> None:
    response = client.get("/items", headers=ALICE, follow_redirects=False)
    # trivium answers 308 (the method and body are kept on any method); FastAPI 307.
    assert response.status_code == (308 if framework == "trivium" else 307)
    assert response.headers["location"].endswith("/items/")
