"""Values a handler returns without a response model are written as FastAPI writes them,
and integers beyond 64 bits survive both ways (orjson alone refuses or rounds them)."""

from __future__ import annotations

import datetime
import enum
import ipaddress
import pathlib
import re
import uuid
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import HttpUrl
from pydantic import SecretStr

from trivium import App
from trivium import Request
from trivium.testing import TestClient


class Colour(enum.Enum):
    RED = "red"


VALUES: dict[str, tuple[Any, Any]] = {
    "url": (HttpUrl("https://example.com"), "https://example.com/"),
    "ip": (ipaddress.ip_address("10.0.0.1"), "10.0.0.1"),
    "network": (ipaddress.ip_network("10.0.0.0/8"), "10.0.0.0/8"),
    "path": (pathlib.PurePosixPath("/srv/data"), "/srv/data"),
    "secret": (SecretStr("hunter2"), "**********"),
    "pattern": (re.compile("a+"), "a+"),
    "big": (10**20, 10**20),
    "negative": (-(2**70), -(2**70)),
    "mixed": (
        {
            1: 10**30,
            "when": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
            "id": uuid.UUID(int=1),
            Colour.RED: [2**70, datetime.date(2024, 1, 2), Colour.RED],
        },
        {
            "1": 10**30,
            "when": "2024-01-01T00:00:00+00:00",
            "id": "00000000-0000-0000-0000-000000000001",
            "red": [2**70, "2024-01-02", "red"],
        },
    ),
}


class Transfer(BaseModel):
    amount_wei: int
    fee: float = 0.0


def make_app() -> App:
    app = App()

    @app.get("/values/{name}")
    async def value(name: str) -> Any:
        return {"value": VALUES[name][0]}

    @app.get("/generated")
    async def generated() -> Any:
        return {"value": (n * n for n in range(3))}

    @app.post("/transfers")
    async def transfer(body: Transfer) -> Transfer:
        return body

    @app.post("/raw")
    async def raw(request: Request) -> Any:
        return await request.json()

    return app


@pytest.mark.parametrize("name", sorted(VALUES))
def test_a_value_orjson_does_not_know_is_written_as_fastapi_writes_it(name: str) -> None:
    with TestClient(make_app()) as client:
        answer = client.get(f"/values/{name}")
    assert answer.status_code == 200
    assert answer.json() == {"value": VALUES[name][1]}


def test_a_generator_is_written_as_a_list() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/generated").json() == {"value": [0, 1, 4]}


def test_an_integer_beyond_64_bits_in_a_body_validates_exactly() -> None:
    with TestClient(make_app()) as client:
        exact = client.post(
            "/transfers",
            content=b'{"amount_wei": 50000000000000000001, "fee": 1.5}',
            headers={"content-type": "application/json"},
        )
        fraction = client.post("/transfers", json={"amount_wei": 5.5})
    assert exact.status_code == 200
    assert exact.json() == {"amount_wei": 50000000000000000001, "fee": 1.5}
    assert fraction.status_code == 422
    assert fraction.json()["detail"][0]["type"] == "int_from_float"


@pytest.mark.parametrize("path", ["/transfers", "/raw"])
def test_an_integer_too_long_for_a_double_is_read_exactly(path: str) -> None:
    # orjson refuses a number of 309 digits or more outright ("infinity"); it is valid JSON.
    amount = int("9" * 400)
    body = b'{"amount_wei": ' + str(amount).encode() + b', "fee": 1.5}'
    with TestClient(make_app()) as client:
        answer = client.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"amount_wei": amount, "fee": 1.5}


@pytest.mark.parametrize(
    "body",
    [
        b'{"amount_wei": ' + b"9" * 400 + b', "fee": 1e400}',  # a float beyond a double
        b'{"amount_wei": ' + b"9" * 400 + b', "fee": NaN}',
        b'{"amount_wei": ' + b"9" * 400 + b",",  # truncated
    ],
)
@pytest.mark.parametrize("path", ["/transfers", "/raw"])
def test_a_long_integer_does_not_let_other_malformed_json_in(path: str, body: bytes) -> None:
    with TestClient(make_app()) as client:
        answer = client.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("Malformed JSON body")
