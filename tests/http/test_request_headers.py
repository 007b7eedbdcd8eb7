"""`Request.header_value`: one header without building the whole mapping, on both interfaces."""

from __future__ import annotations

from trivium import App
from trivium import Request
from trivium.testing import TestClient


def make_app() -> App:
    app = App()

    @app.get("/sig")
    async def sig(request: Request) -> dict[str, str | None]:
        return {
            "one": request.header_value("x-signature"),
            "cased": request.header_value("X-Signature"),
            "absent": request.header_value("x-missing"),
            "mapping": request.headers.get("x-signature"),
        }

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, str | None]:
        # Reading the mapping first must not change what header_value answers.
        folded = request.headers.get("x-tag")
        return {"first": request.header_value("x-tag"), "folded": folded}

    return app


def test_header_value_reads_one_header() -> None:
    with TestClient(make_app()) as client:
        body = client.get("/sig", headers={"x-signature": "abc"}).json()
    assert body == {"one": "abc", "cased": "abc", "absent": None, "mapping": "abc"}


def test_header_value_gives_the_first_of_repeated_headers() -> None:
    with TestClient(make_app()) as client:
        response = client.post("/echo", headers=[("x-tag", "a"), ("x-tag", "b")])
    assert response.json() == {"first": "a", "folded": "a, b"}
