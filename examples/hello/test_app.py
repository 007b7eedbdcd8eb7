from __future__ import annotations

from examples.hello.app import app
from trivium.testing import TestClient

client = TestClient(app)


def test_hello_greets_the_world_by_default() -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello, world!"}


def test_hello_greets_by_name() -> None:
    assert client.get("/", params={"name": "Ada"}).json() == {"message": "Hello, Ada!"}


def test_too_long_a_name_is_a_422() -> None:
    response = client.get("/", params={"name": "x" * 41})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "name"]
    assert error["type"] == "string_too_long"


def test_square_converts_the_path_parameter() -> None:
    assert client.get("/square/12").json() == {"number": 12, "square": 144}


def test_square_of_a_word_is_a_422() -> None:
    response = client.get("/square/twelve")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "number"]


def test_square_of_a_huge_number_is_a_400() -> None:
    response = client.get("/square/2000000")
    assert response.status_code == 400
    assert response.json() == {"detail": "Pick a number up to 1,000,000"}


def test_unknown_path_is_a_404() -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
