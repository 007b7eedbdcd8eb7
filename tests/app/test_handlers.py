from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Any

from pydantic import BaseModel

from trivium import App
from trivium import BackgroundTasks
from trivium import Response
from trivium.responses import HTMLResponse
from trivium.responses import JSONResponse
from trivium.responses import RedirectResponse
from trivium.testing import TestClient


class UserIn(BaseModel):
    name: str
    password: str


class UserOut(BaseModel):
    name: str


@dataclasses.dataclass
class Pair:
    a: int
    b: str


def test_return_values_are_serialized() -> None:
    app = App()
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")

    @app.get("/dict")
    async def d() -> dict[str, Any]:
        return {"when": moment, "id": ident}

    @app.get("/list")
    def lst() -> list[int]:
        return [1, 2]

    @app.get("/scalar")
    async def scalar() -> int:
        return 42

    @app.get("/model")
    async def model() -> UserOut:
        return UserOut(name="m")

    @app.get("/dataclass")
    async def dc() -> Pair:
        return Pair(1, "x")

    @app.get("/none")
    async def none() -> None:
        return None

    client = TestClient(app)
    assert client.get("/dict").json() == {"when": "2026-01-02T03:04:05Z", "id": str(ident)}
    assert client.get("/list").json() == [1, 2]
    assert client.get("/scalar").json() == 42
    assert client.get("/model").json() == {"name": "m"}
    assert client.get("/dataclass").json() == {"a": 1, "b": "x"}
    assert client.get("/none").json() is None


def test_response_model_filters_fields_that_must_not_leak() -> None:
    app = App()

    @app.post("/users", response_model=UserOut, status_code=201)
    async def create(user: UserIn) -> Any:
        return user

    @app.get("/raw")
    async def raw() -> UserOut:
        return {"name": "x", "password": "secret"}  # type: ignore[return-value]

    client = TestClient(app)
    response = client.post("/users", json={"name": "ada", "password": "pw"})
    assert response.status_code == 201
    assert response.json() == {"name": "ada"}
    assert client.get("/raw").json() == {"name": "x"}


def test_response_model_exclude_none_and_unset() -> None:
    class Out(BaseModel):
        a: int | None = None
        b: int = 0

    app = App()

    @app.get("/none", response_model=Out, response_model_exclude_none=True)
    async def none() -> Any:
        return {"b": 1}

    @app.get("/unset", response_model=Out, response_model_exclude_unset=True)
    async def unset() -> Any:
        return Out(a=5)

    client = TestClient(app)
    assert client.get("/none").json() == {"b": 1}
    assert client.get("/unset").json() == {"a": 5}


def test_invalid_output_is_a_server_error() -> None:
    app = App()

    @app.get("/")
    async def index() -> UserOut:
        return {"nom": "x"}  # type: ignore[return-value]

    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert "nom" not in response.text


def test_response_model_none_disables_the_annotation() -> None:
    app = App()

    @app.get("/", response_model=None)
    async def index() -> UserOut:
        return {"name": "x", "extra": 1}  # type: ignore[return-value]

    assert TestClient(app).get("/").json() == {"name": "x", "extra": 1}


def test_injected_response_sets_status_headers_and_cookies() -> None:
    app = App()

    @app.get("/")
    async def index(response: Response) -> dict[str, str]:
        response.status_code = 202
        response.headers["x-custom"] = "1"
        response.set_cookie("seen", "yes")
        return {"ok": "yes"}

    response = TestClient(app).get("/")
    assert response.status_code == 202
    assert response.headers["x-custom"] == "1"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("seen=yes")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert response.json() == {"ok": "yes"}


def test_returned_response_is_sent_as_is_with_injected_cookies() -> None:
    app = App()

    @app.get("/html")
    async def html() -> HTMLResponse:
        return HTMLResponse("<h1>hi</h1>")

    @app.get("/go")
    async def go(response: Response) -> RedirectResponse:
        response.set_cookie("flash", "moved")
        return RedirectResponse("/html", status_code=303)

    @app.get("/json")
    async def json() -> JSONResponse:
        return JSONResponse({"a": 1}, status_code=418, headers={"x-tea": "pot"})

    client = TestClient(app)
    assert client.get("/html").headers["content-type"] == "text/html; charset=utf-8"
    response = client.get("/go", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/html"
    assert "flash=moved" in response.headers["set-cookie"]
    response = client.get("/json")
    assert (response.status_code, response.json(), response.headers["x-tea"]) == (
        418,
        {"a": 1},
        "pot",
    )


def test_background_tasks_run_after_the_response() -> None:
    log: list[str] = []

    async def notify(who: str) -> None:
        log.append(f"async {who}")

    def write(line: str, *, suffix: str = "") -> None:
        log.append(line + suffix)

    app = App()

    @app.post("/signup")
    async def signup(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(notify, "ada")
        tasks.add_task(write, "sync", suffix="!")
        log.append("handler")
        return {"ok": True}

    assert TestClient(app).post("/signup").json() == {"ok": True}
    assert log == ["handler", "async ada", "sync!"]


def test_cookie_values_are_validated_and_deleted() -> None:
    response = Response()
    response.set_cookie("token", "a b;c", secure=True, samesite="strict", max_age=60)
    header = response.headers["set-cookie"]
    assert "a b;c" not in header
    assert "Secure" in header
    assert "SameSite=Strict" in header
    assert "Max-Age=60" in header
    response.delete_cookie("token")
    assert "Max-Age=0" in response.headers.getlist("set-cookie")[-1]


def test_header_injection_is_refused() -> None:
    import pytest

    response = Response()
    with pytest.raises(ValueError, match="CR"):
        response.headers["x"] = "a\r\nSet-Cookie: evil=1"
    with pytest.raises(ValueError, match="CR"):
        Response(headers={"x": "a\nb"})


def test_injected_response_status_204_drops_the_body() -> None:
    app = App()

    @app.delete("/thing")
    async def delete(response: Response) -> None:
        response.status_code = 204

    response = TestClient(app).delete("/thing")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers or response.headers["content-length"] == "0"


def test_security_headers_are_on_by_default() -> None:
    app = App()

    @app.get("/")
    async def index() -> str:
        return "x"

    @app.get("/framed")
    async def framed(response: Response) -> str:
        response.headers["x-frame-options"] = "SAMEORIGIN"
        return "x"

    client = TestClient(app)
    for response in (client.get("/"), client.get("/missing"), client.post("/")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert client.get("/framed").headers.get_list("x-frame-options") == ["SAMEORIGIN"]


def test_security_headers_can_be_replaced_or_turned_off() -> None:
    custom = App(security_headers={"X-Frame-Options": "SAMEORIGIN"})
    bare = App(security_headers=False)
    for app in (custom, bare):

        @app.get("/")
        async def index() -> str:
            return "x"

    assert TestClient(custom).get("/").headers["x-frame-options"] == "SAMEORIGIN"
    assert "x-content-type-options" not in TestClient(custom).get("/").headers
    assert "x-frame-options" not in TestClient(bare).get("/").headers


def test_dict_keys_that_are_not_strings_are_written_as_strings() -> None:
    app = App()

    @app.post("/weights")
    async def weights(weights: dict[int, float]):  # type: ignore[no-untyped-def]
        return weights

    @app.get("/plain")
    async def plain() -> JSONResponse:
        return JSONResponse({1: "a", 2.5: "b"})

    client = TestClient(app)
    assert client.post("/weights", json={"1": 2.5}).json() == {"1": 2.5}
    assert client.get("/plain").json() == {"1": "a", "2.5": "b"}
