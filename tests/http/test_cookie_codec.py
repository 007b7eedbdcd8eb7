"""The public cookie codec (`trivium.http`): what batteries and third-party plugins use."""

from __future__ import annotations

from typing import Annotated

import pytest

from trivium import App
from trivium import Cookie
from trivium.http import Response
from trivium.http import format_set_cookie
from trivium.http import parse_cookie_header
from trivium.testing import TestClient


def test_a_formatted_cookie_parses_back_and_carries_its_attributes() -> None:
    header = format_set_cookie("sid", "a b;c", max_age=60, secure=True)
    assert header == "sid=a%20b%3Bc; HttpOnly; Max-Age=60; Path=/; SameSite=Lax; Secure"
    pair = header.split(";")[0]
    assert parse_cookie_header(pair) == {"sid": "a b;c"}
    bare = format_set_cookie("sid", "x", samesite=None, httponly=False, path=None)
    assert bare == "sid=x"


def test_parsing_is_lenient_about_bad_pairs() -> None:
    parsed = parse_cookie_header('a=1; b="two"; junk; =x; c=3=4')
    assert parsed == {"a": "1", "b": "two", "c": "3=4"}
    assert parse_cookie_header("") == {}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"key": "bad name"}, "not a valid cookie name"),
        ({"key": ""}, "not a valid cookie name"),
        ({"key": "sid", "samesite": "sometimes"}, "samesite must be"),
    ],
)
def test_bad_cookies_are_refused(options: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        format_set_cookie(**options)  # type: ignore[arg-type]


def test_the_codec_is_the_one_responses_and_requests_use() -> None:
    app = App()

    @app.get("/set")
    async def set_cookie() -> Response:
        response = Response("ok")
        response.set_cookie("sid", "a b;c", max_age=60, secure=True)
        return response

    @app.get("/read")
    async def read(sid: Annotated[str | None, Cookie()] = None) -> dict[str, str | None]:
        return {"sid": sid}

    with TestClient(app) as client:
        answer = client.get("/set")
        assert answer.headers["set-cookie"] == format_set_cookie(
            "sid", "a b;c", max_age=60, secure=True
        )
    with TestClient(app) as client:
        echoed = client.get("/read", headers={"cookie": 'sid="quoted"; junk; other=1'}).json()
        assert echoed == {"sid": parse_cookie_header('sid="quoted"')["sid"]} == {"sid": "quoted"}


VALUES = [
    '{"theme": "dark"}',
    "Jane Doe",
    "Zürich",
    "日本",
    "100%",
    "100%25",
    'a;b,c\\d"e',
    "plain",
]


@pytest.mark.parametrize("value", VALUES)
def test_any_string_set_as_a_cookie_reads_back_the_same(value: str) -> None:
    """What Starlette's cookies do: JSON, spaces, non-ASCII and `%` round-trip."""
    app = App()

    @app.post("/set")
    async def save(response: Response, v: str) -> dict[str, str]:
        response.set_cookie("v", v)
        return {}

    @app.get("/get")
    async def read(v: Annotated[str, Cookie()]) -> dict[str, str]:
        return {"v": v}

    with TestClient(app) as client:
        header = client.post("/set", params={"v": value}).headers["set-cookie"]
        assert header.isascii()
        assert client.get("/get").json() == {"v": value}


def test_an_integer_expires_is_seconds_from_now_as_in_starlette() -> None:
    import time
    from email.utils import parsedate_to_datetime

    header = format_set_cookie("sid", "x", expires=3600)
    moment = parsedate_to_datetime(header.split("expires=")[1].split(";")[0])
    assert abs(moment.timestamp() - (time.time() + 3600)) < 5
