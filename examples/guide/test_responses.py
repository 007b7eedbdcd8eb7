from __future__ import annotations

from examples.guide.responses import UserOut
from examples.guide.responses import app
from trivium import App
from trivium.testing import TestClient

client = TestClient(app, follow_redirects=False)


def test_plain_values_are_serialized_to_json() -> None:
    assert client.get("/values").json() == {
        "when": "2030-01-02T03:04:00Z",
        "point": {"x": 1, "y": 2},
        "tags": ["a"],
    }


def test_return_annotation_is_the_response_model() -> None:
    response = client.post("/users", json={"name": "ann", "password": "secret"})
    assert response.status_code == 201
    assert response.json() == {"name": "ann", "nickname": None}


def test_response_model_filters_fields() -> None:
    assert client.get("/users/bo").json() == {"name": "bo"}


def test_response_classes() -> None:
    assert client.get("/page").headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/robots.txt").text == "User-agent: *\nDisallow:\n"
    redirect = client.get("/old-page")
    assert (redirect.status_code, redirect.headers["location"]) == (301, "/page")
    teapot = client.get("/teapot")
    assert (teapot.status_code, teapot.headers["x-pot"], teapot.json()) == (
        418,
        "1",
        {"brewing": False},
    )


def test_injected_response_sets_status_headers_and_cookies() -> None:
    response = client.post("/sessions")
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["set-cookie"] == (
        "session=abc123; HttpOnly; Max-Age=3600; Path=/; SameSite=Lax"
    )


def test_streaming_response() -> None:
    response = client.get("/numbers.csv", params={"count": 2})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text == "n,square\n1,1\n2,4\n"


def test_file_response_supports_ranges() -> None:
    whole = client.get("/source")
    assert whole.headers["content-disposition"] == 'attachment; filename="responses.py"'
    part = client.get("/source", headers={"range": "bytes=0-2"})
    assert (part.status_code, part.content) == (206, b'"""')


def test_plain_annotations_are_not_validated() -> None:
    plain = App()

    @plain.get("/")
    def handler() -> int:
        return "not a number"  # type: ignore[return-value]

    assert TestClient(plain).get("/").json() == "not a number"


def test_a_value_that_breaks_the_response_model_is_a_500() -> None:
    broken = App()

    @broken.get("/")
    def handler() -> UserOut:
        return {"nickname": "no name"}  # type: ignore[return-value]

    response = TestClient(broken, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_a_generator_handler_streams_json_lines() -> None:
    response = TestClient(app).get("/readings?count=2")
    assert response.headers["content-type"] == "application/jsonl"
    assert response.text == '{"sensor":"t1","value":20.0}\n{"sensor":"t1","value":20.5}\n'
