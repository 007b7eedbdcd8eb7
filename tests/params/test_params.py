from __future__ import annotations

import dataclasses
from typing import Annotated
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import Field

from trivium import App
from trivium import Body
from trivium import Cookie
from trivium import File
from trivium import Form
from trivium import Header
from trivium import Query
from trivium import UploadFile
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[str] = []


class User(BaseModel):
    username: str


class Filters(BaseModel):
    limit: int = Field(10, ge=1, le=100)
    order: str = "asc"
    tag: list[str] = []


class Login(BaseModel):
    username: str
    password: str


@dataclasses.dataclass
class Point:
    x: int
    y: int


def make_app() -> App:  # noqa: C901 - one app with many small handlers
    app = App()

    @app.get("/search")
    async def search(
        q: Annotated[str, Query(min_length=2, max_length=10)],
        page: Annotated[int, Query(ge=1)] = 1,
        exact: bool = False,
        tag: Annotated[list[str], Query()] = [],  # noqa: B006 - defaults are copied per request
    ) -> dict[str, object]:
        return {"q": q, "page": page, "exact": exact, "tag": tag}

    @app.get("/aliased")
    async def aliased(
        item_query: Annotated[str, Query(alias="item-query", pattern="^[a-z]+$")],
    ) -> str:
        return item_query

    @app.get("/headers")
    async def headers(
        user_agent: Annotated[str | None, Header()] = None,
        x_token: Annotated[list[str], Header()] = [],  # noqa: B006
        session: Annotated[str | None, Cookie()] = None,
    ) -> dict[str, object]:
        return {"ua": user_agent, "tokens": x_token, "session": session}

    @app.get("/filtered")
    async def filtered(filters: Annotated[Filters, Query()]) -> Filters:
        return filters

    @app.post("/items", status_code=201)
    async def create(item: Item) -> Item:
        return item

    @app.post("/embedded")
    async def embedded(item: Annotated[Item, Body(embed=True)]) -> dict[str, object]:
        return {"item": item.model_dump()}

    @app.post("/several")
    async def several(
        item: Item, user: User, importance: Annotated[int, Body(gt=0)]
    ) -> dict[str, object]:
        return {"item": item.name, "user": user.username, "importance": importance}

    @app.post("/point")
    async def point(p: Point) -> dict[str, int]:
        return {"sum": p.x + p.y}

    @app.post("/optional-body")
    async def optional_body(item: Item | None = None) -> dict[str, object]:
        return {"item": item.name if item else None}

    @app.post("/login")
    async def login(
        username: Annotated[str, Form()], password: Annotated[str, Form(min_length=3)]
    ) -> dict[str, str]:
        return {"username": username}

    @app.post("/login-model")
    async def login_model(data: Annotated[Login, Form()]) -> dict[str, str]:
        return {"username": data.username}

    @app.post("/upload")
    async def upload(
        file: UploadFile,
        raw: Annotated[bytes, File()],
        note: Annotated[str, Form()] = "",
    ) -> dict[str, object]:
        content = await file.read()
        return {"name": file.filename, "size": len(content), "raw": len(raw), "note": note}

    @app.post("/uploads")
    async def uploads(files: Annotated[list[UploadFile], File()]) -> list[str | None]:
        return [f.filename for f in files]

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app())


def test_query_parameters_are_converted(client: TestClient) -> None:
    response = client.get("/search", params={"q": "abc", "page": "2", "exact": "true"})
    assert response.json() == {"q": "abc", "page": 2, "exact": True, "tag": []}


def test_list_query_parameter_collects_repeats(client: TestClient) -> None:
    response = client.get("/search?q=ab&tag=a&tag=b")
    assert response.json()["tag"] == ["a", "b"]


def test_every_failing_field_is_reported(client: TestClient) -> None:
    response = client.get("/search?q=a&page=0&exact=maybe")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [e["loc"] for e in detail] == [["query", "q"], ["query", "page"], ["query", "exact"]]
    assert {"type", "loc", "msg", "input"} <= set(detail[0])
    assert detail[0]["type"] == "string_too_short"
    assert detail[1]["ctx"] == {"ge": 1}


def test_missing_required_query_parameter(client: TestClient) -> None:
    response = client.get("/search")
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": None}
    ]


def test_alias_and_pattern(client: TestClient) -> None:
    assert client.get("/aliased?item-query=abc").json() == "abc"
    response = client.get("/aliased?item-query=ABC")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "item-query"]
    assert response.json()["detail"][0]["type"] == "string_pattern_mismatch"


def test_headers_and_cookies(client: TestClient) -> None:
    response = client.get(
        "/headers",
        headers=[
            ("User-Agent", "probe/1"),
            ("X-Token", "a"),
            ("X-Token", "b"),
            ("Cookie", "session=s1"),
        ],
    )
    assert response.json() == {"ua": "probe/1", "tokens": ["a", "b"], "session": "s1"}


def test_query_param_model(client: TestClient) -> None:
    assert client.get("/filtered?limit=5&tag=x&tag=y").json() == {
        "limit": 5,
        "order": "asc",
        "tag": ["x", "y"],
    }
    response = client.get("/filtered?limit=500")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_json_body_model(client: TestClient) -> None:
    response = client.post("/items", json={"name": "pen", "price": 1.5})
    assert response.status_code == 201
    assert response.json() == {"name": "pen", "price": 1.5, "tags": []}


def test_body_errors_have_body_loc(client: TestClient) -> None:
    response = client.post("/items", json={"price": -1})
    assert response.status_code == 422
    locs = [e["loc"] for e in response.json()["detail"]]
    assert locs == [["body", "name"], ["body", "price"]]


def test_embedded_body(client: TestClient) -> None:
    response = client.post("/embedded", json={"item": {"name": "a", "price": 2}})
    assert response.json() == {"item": {"name": "a", "price": 2.0, "tags": []}}
    response = client.post("/embedded", json={"name": "a", "price": 2})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "item"]


def test_several_body_parameters_are_embedded(client: TestClient) -> None:
    payload = {"item": {"name": "a", "price": 1}, "user": {"username": "u"}, "importance": 3}
    assert client.post("/several", json=payload).json() == {
        "item": "a",
        "user": "u",
        "importance": 3,
    }
    payload["importance"] = 0
    response = client.post("/several", json=payload)
    assert response.json()["detail"][0]["loc"] == ["body", "importance"]


def test_dataclass_body(client: TestClient) -> None:
    assert client.post("/point", json={"x": 1, "y": 2}).json() == {"sum": 3}


def test_optional_body_may_be_absent(client: TestClient) -> None:
    assert client.post("/optional-body").json() == {"item": None}
    assert client.post("/optional-body", json={"name": "n", "price": 1}).json() == {"item": "n"}


def test_missing_required_body(client: TestClient) -> None:
    response = client.post("/items")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert response.json()["detail"][0]["type"] == "missing"


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/items", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON body")


def test_wrong_content_type_is_415(client: TestClient) -> None:
    response = client.post("/items", content=b"name=x", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_missing_content_type_with_body_is_415(client: TestClient) -> None:
    response = client.post("/items", content=b'{"name":"x","price":1}')
    assert response.status_code == 415


def test_json_suffix_content_types_are_json(client: TestClient) -> None:
    response = client.post(
        "/items",
        content=b'{"name":"x","price":1}',
        headers={"content-type": "application/merge-patch+json"},
    )
    assert response.status_code == 201


def test_form_fields(client: TestClient) -> None:
    assert client.post("/login", data={"username": "ada", "password": "secret"}).json() == {
        "username": "ada"
    }
    response = client.post("/login", data={"username": "ada", "password": "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]


def test_form_rejects_json(client: TestClient) -> None:
    response = client.post("/login", json={"username": "a", "password": "abc"})
    assert response.status_code == 415


def test_form_model(client: TestClient) -> None:
    assert client.post("/login-model", data={"username": "u", "password": "p"}).json() == {
        "username": "u"
    }
    response = client.post("/login-model", data={"username": "u"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]


def test_file_uploads(client: TestClient) -> None:
    response = client.post(
        "/upload",
        files={
            "file": ("a.txt", b"hello", "text/plain"),
            "raw": ("b.bin", b"\x00\x01", "application/octet-stream"),
        },
        data={"note": "n"},
    )
    assert response.json() == {"name": "a.txt", "size": 5, "raw": 2, "note": "n"}


def test_missing_file_is_422(client: TestClient) -> None:
    response = client.post("/upload", files={"raw": ("b.bin", b"x")})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_several_files_in_one_field(client: TestClient) -> None:
    response = client.post("/uploads", files=[("files", ("a", b"1")), ("files", ("b", b"2"))])
    assert response.json() == ["a", "b"]


def test_conflicting_declarations_fail_at_start_up() -> None:
    from trivium import Depends

    def dep(q: Annotated[list[int], Query()]) -> list[int]:  # a list reads `q` differently
        return q

    app = App()

    @app.get("/")
    async def index(q: str, d: list[int] = Depends(dep)) -> str:
        return q

    with pytest.raises(ConfigurationError, match="declared twice"):
        app.build()


def test_json_and_form_body_cannot_mix() -> None:
    app = App()

    @app.post("/")
    async def index(item: Item, name: Annotated[str, Form()]) -> str:
        return name

    with pytest.raises(ConfigurationError) as caught:
        app.build()
    assert caught.value.code == "body-mix"
    message = str(caught.value)
    assert "test_json_and_form_body_cannot_mix.<locals>.index takes JSON body" in message
    assert "(item)" in message
    assert "(name)" in message
    assert "mark them all Form()/File()" in message


def test_deprecated_and_include_in_schema_are_accepted() -> None:
    app = App()

    @app.get("/")
    async def index(
        old: Annotated[str | None, Query(deprecated=True)] = None,
        hidden: Annotated[str | None, Query(include_in_schema=False)] = None,
    ) -> list[str | None]:
        return [old, hidden]

    assert TestClient(app).get("/?old=a&hidden=b").json() == ["a", "b"]


def test_an_empty_form_input_is_a_missing_value() -> None:
    """As FastAPI and Django: a blank required input is 422 `missing`, a blank optional
    one takes its default (an HTML form posts every input, filled or not)."""
    app = App()

    @app.post("/signup")
    async def signup(
        username: Annotated[str, Form()],
        email: Annotated[str, Form()],
        age: Annotated[int | None, Form()] = None,
    ) -> dict[str, Any]:
        return {"username": username, "email": email, "age": age}

    with TestClient(app) as client:
        blank = client.post("/signup", data={"username": "bob", "email": ""})
        optional = client.post("/signup", data={"username": "bob", "email": "b@x.io", "age": ""})
    assert blank.status_code == 422
    assert blank.json()["detail"] == [
        {"type": "missing", "loc": ["body", "email"], "msg": "Field required", "input": None}
    ]
    assert optional.json() == {"username": "bob", "email": "b@x.io", "age": None}
