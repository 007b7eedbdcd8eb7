from __future__ import annotations

import ast
from pathlib import Path

import pytest

from examples.guide.errors import app
from trivium import App
from trivium.testing import TestClient

client = TestClient(app, raise_server_exceptions=False)
ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "trivium"
DOCS = ROOT / "docs"


def test_http_exception_becomes_detail_and_headers() -> None:
    response = client.get("/books/2")
    assert response.status_code == 404
    assert response.headers["x-reason"] == "missing"
    assert response.json() == {"detail": "Book 2 not found"}


def test_custom_exception_handler() -> None:
    response = client.get("/books/1/order")
    assert response.status_code == 409
    assert response.json() == {"detail": "Orlando is out of stock"}


def test_validation_handler_replaces_the_422_body() -> None:
    response = client.get("/books/one")
    assert response.status_code == 422
    assert response.json() == {"detail": "Invalid request", "fields": ["path.book_id"]}


def test_default_422_body() -> None:
    plain = App()

    @plain.get("/books/{book_id}")
    def get_book(book_id: int) -> int:
        return book_id

    response = TestClient(plain).get("/books/one")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["path", "book_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "one",
            }
        ]
    }


def test_malformed_json_is_a_400() -> None:
    response = client.post("/books", content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON body:")


def test_wrong_content_type_is_a_415() -> None:
    response = client.post("/books", content=b"title=x", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert response.json() == {
        "detail": "Unsupported media type 'text/plain': this endpoint expects 'application/json'"
    }


def test_too_large_a_body_is_a_413() -> None:
    response = client.post("/books", json={"title": "x" * 2000})
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body exceeds the limit of 1024 bytes"}


def test_too_deep_json_is_a_400() -> None:
    response = client.post(
        "/books", content=b"[" * 65 + b"]" * 65, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON body nests deeper than the limit of 64"}


def test_unexpected_errors_are_a_500_without_internals() -> None:
    response = client.get("/crash")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_unexpected_errors_reach_the_test_by_default() -> None:
    with pytest.raises(RuntimeError, match="hunter2"):
        TestClient(app).get("/crash")


def test_debug_mode_shows_the_traceback() -> None:
    debug = App(debug=True)

    @debug.get("/crash")
    def crash() -> None:
        raise RuntimeError("boom")

    response = TestClient(debug, raise_server_exceptions=False).get("/crash")
    assert response.status_code == 500
    assert response.json()["exception"] == "RuntimeError('boom')"


def _configuration_errors() -> list[tuple[str, int, object]]:
    """Every `ConfigurationError(...)` call in the source tree, with its literal code."""
    calls: list[tuple[str, int, object]] = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "ConfigurationError":
                args = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "code")]
                code = args[0].value if args and isinstance(args[0], ast.Constant) else args
                calls.append((str(path.relative_to(SRC)), node.lineno, code))
    return calls


def test_every_configuration_error_code_is_documented() -> None:
    documented = (DOCS / "errors.md").read_text(encoding="utf-8") + (DOCS / "cli.md").read_text(
        encoding="utf-8"
    )
    codes = {code for _, _, code in _configuration_errors() if isinstance(code, str)}
    assert "path-format" in codes
    missing = sorted(code for code in codes if f"`{code}`" not in documented)
    assert missing == [], f"add these codes to docs/errors.md: {missing}"


def test_every_configuration_error_has_a_code() -> None:
    uncoded = [(path, line) for path, line, code in _configuration_errors() if code == []]
    assert uncoded == []
