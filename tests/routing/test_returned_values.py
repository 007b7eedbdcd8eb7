"""Returned values: models inside containers dumped by alias, returned responses kept."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic.alias_generators import to_camel

from trivium import App
from trivium import Response
from trivium import WebSocket
from trivium.responses import JSONResponse
from trivium.testing import TestClient


class Person(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)
    first_name: str


def make_app() -> App:
    app = App()

    @app.get("/dict")
    async def in_a_dict() -> dict[str, Any]:
        return {"person": Person(first_name="Ada"), "people": [Person(first_name="Bob")]}

    @app.get("/direct")
    async def direct() -> Person:
        return Person(first_name="Cy")

    @app.get("/response")
    async def response() -> JSONResponse:
        return JSONResponse({"person": Person(first_name="Di")})

    @app.get("/by-name", response_model_by_alias=False)
    async def by_name() -> Person:
        return Person(first_name="Ed")

    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"person": Person(first_name="Flo")})
        await websocket.close()

    return app


def test_models_in_containers_use_their_aliases() -> None:
    client = TestClient(make_app())
    assert client.get("/dict").json() == {
        "person": {"firstName": "Ada"},
        "people": [{"firstName": "Bob"}],
    }
    assert client.get("/direct").json() == {"firstName": "Cy"}
    assert client.get("/response").json() == {"person": {"firstName": "Di"}}
    assert client.get("/by-name").json() == {"first_name": "Ed"}
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_json() == {"person": {"firstName": "Flo"}}


def test_a_returned_response_keeps_its_status_and_gets_the_parameters_cookies() -> None:
    app = App()

    @app.get("/own")
    async def own(response: Response) -> JSONResponse:
        response.status_code = 201
        response.headers["x-a"] = "1"
        response.set_cookie("seen", "yes")
        return JSONResponse({"err": True}, status_code=404, headers={"x-a": "mine"})

    @app.get("/built")
    async def built(response: Response) -> dict[str, bool]:
        response.status_code = 201
        return {"ok": True}

    client = TestClient(app)
    own_response = client.get("/own")
    assert own_response.status_code == 404
    assert own_response.json() == {"err": True}
    assert own_response.headers["x-a"] == "mine"
    assert own_response.cookies["seen"] == "yes"
    assert client.get("/built").status_code == 201
