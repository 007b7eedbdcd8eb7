"""One request parameter declared in several places (the handler and its dependencies).

As in FastAPI, each declaration is validated on its own against the same raw value and
gets its own default; identical declarations share one field.
"""

from __future__ import annotations

from typing import Annotated
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import SecretStr

from trivium import App
from trivium import Body
from trivium import Cookie
from trivium import Depends
from trivium import File
from trivium import Form
from trivium import Header
from trivium import Path
from trivium import Query
from trivium import UploadFile
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


def paginate(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> int:
    return limit


def audit(limit: int = 10) -> int:
    return limit


def make_app(app: Any) -> Any:
    @app.get("/one")
    def one(a: int = Depends(audit), p: int = Depends(paginate)) -> dict[str, int]:
        return {"audit": a, "page_limit": p}

    @app.get("/three")
    def three(limit: int = 5, p: int = Depends(paginate)) -> dict[str, int]:
        return {"handler": limit, "page_limit": p}

    return app


@pytest.fixture(params=["trivium", "fastapi"])
def client(request: pytest.FixtureRequest) -> TestClient:
    if request.param == "fastapi":
        from trivium.compat.fastapi import FastAPI

        return TestClient(make_app(FastAPI()))
    return TestClient(make_app(App()))


def test_each_declaration_gets_its_own_default(client: TestClient) -> None:
    assert client.get("/one").json() == {"audit": 10, "page_limit": 20}
    assert client.get("/three").json() == {"handler": 5, "page_limit": 20}
    assert client.get("/one?limit=7").json() == {"audit": 7, "page_limit": 7}


def test_each_declaration_keeps_its_constraints(client: TestClient) -> None:
    response = client.get("/one?limit=100000")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "less_than_equal"
    assert error["loc"] == ["query", "limit"]
    response = client.get("/three?limit=0")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "greater_than_equal"
    assert error["loc"] == ["query", "limit"]


def test_openapi_documents_the_first_declaration(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, default in (("/one", 10), ("/three", 5)):
        params = paths[path]["get"]["parameters"]
        assert [p["name"] for p in params] == ["limit"]
        schema = params[0]["schema"]
        assert schema["default"] == default
        assert "maximum" not in schema


def test_different_types_validate_the_same_raw_value() -> None:
    def as_text(q: str | None = None) -> str | None:
        return q

    app = App()

    @app.get("/")
    def index(q: int, text: str | None = Depends(as_text)) -> dict[str, Any]:
        return {"q": q, "text": text}

    @app.get("/optional")
    def optional(q: int | None = None, n: int = Depends(audit)) -> dict[str, Any]:
        return {"q": q, "n": n}

    client = TestClient(app)
    assert client.get("/?q=5").json() == {"q": 5, "text": "5"}
    response = client.get("/?q=abc")
    assert response.status_code == 422
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("int_parsing", ["query", "q"])
    ]
    response = client.get("/")
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("missing", ["query", "q"])
    ]
    assert client.get("/optional").json() == {"q": None, "n": 10}


def test_every_failing_declaration_is_reported() -> None:
    def small(n: Annotated[int, Query(le=5)]) -> int:
        return n

    app = App()

    @app.get("/")
    def index(n: Annotated[int, Query(ge=10)], s: int = Depends(small)) -> int:
        return n

    response = TestClient(app).get("/?n=7")
    assert response.status_code == 422
    assert sorted(e["type"] for e in response.json()["detail"]) == [
        "greater_than_equal",
        "less_than_equal",
    ]


def test_identical_declarations_share_one_field() -> None:
    def first(limit: Annotated[int, Query(le=100)] = 20) -> int:
        return limit

    def second(limit: Annotated[int, Query(le=100)] = 20) -> int:
        return limit

    app = App()

    @app.get("/")
    def index(a: int = Depends(first), b: int = Depends(second)) -> list[int]:
        return [a, b]

    client = TestClient(app)
    assert client.get("/").json() == [20, 20]
    assert client.get("/?limit=3").json() == [3, 3]
    response = client.get("/?limit=101")
    assert len(response.json()["detail"]) == 1
    route = next(r for r in app.routes if getattr(r, "path", None) == "/")
    assert [f.name for f in route.plan.fields] == ["limit"]


def test_headers_cookies_and_path() -> None:
    def header_dep(x_token: Annotated[str, Header(min_length=3)] = "dep") -> str:
        return x_token

    def cookie_dep(session: Annotated[int, Cookie()] = 0) -> int:
        return session

    def path_dep(item_id: Annotated[str, Path()]) -> str:
        return item_id

    app = App()

    @app.get("/items/{item_id}")
    def item(
        item_id: Annotated[int, Path(ge=1)],
        x_token: Annotated[str | None, Header()] = None,
        session: Annotated[str, Cookie()] = "none",
        h: str = Depends(header_dep),
        c: int = Depends(cookie_dep),
        p: str = Depends(path_dep),
    ) -> list[Any]:
        return [item_id, p, x_token, h, session, c]

    client = TestClient(app)
    assert client.get("/items/3").json() == [3, "3", None, "dep", "none", 0]
    client.cookies.set("session", "12")
    response = client.get("/items/3", headers={"x-token": "abcd"})
    assert response.json() == [3, "3", "abcd", "abcd", "12", 12]
    response = client.get("/items/0", headers={"x-token": "ab"})
    assert sorted((e["type"], tuple(e["loc"])) for e in response.json()["detail"]) == [
        ("greater_than_equal", ("path", "item_id")),
        ("string_too_short", ("header", "x-token")),
    ]
    client.cookies.set("session", "abc")
    response = client.get("/items/3")
    assert [tuple(e["loc"]) for e in response.json()["detail"]] == [("cookie", "session")]


def test_a_failing_declaration_does_not_run_its_dependency_with_a_default() -> None:
    calls: list[int] = []

    def recorded(limit: Annotated[int, Query(ge=1)] = 20) -> int:
        calls.append(limit)
        return limit

    def deny() -> None:
        from trivium.errors import HTTPException

        raise HTTPException(401, "no")

    app = App()

    @app.get("/")
    def index(limit: int = 5, p: int = Depends(recorded), d: None = Depends(deny)) -> int:
        return p

    response = TestClient(app).get("/?limit=0")
    assert response.status_code == 401  # the valid dependency answers first, as FastAPI
    assert calls == []


def test_secret_declaration_is_not_echoed() -> None:
    def secret(token: Annotated[SecretStr, Query(min_length=10)]) -> str:
        return token.get_secret_value()

    app = App()

    @app.get("/")
    def index(token: str, s: str = Depends(secret)) -> str:
        return s

    response = TestClient(app).get("/?token=hunter2")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "token"]
    assert "hunter2" not in response.text


class Item(BaseModel):
    name: str


class PricedItem(BaseModel):
    name: str
    price: float


def test_one_body_declared_twice_is_validated_by_both() -> None:
    def priced(item: PricedItem | None = None) -> float | None:
        return item.price if item is not None else None

    app = App()

    @app.post("/")
    def different(item: Item, price: float | None = Depends(priced)) -> list[Any]:
        return [item.name, price]

    client = TestClient(app)
    # Not embedded: one body name, as FastAPI (and as the OpenAPI document shows).
    assert client.post("/", json={"name": "a", "price": 2}).json() == ["a", 2.0]
    response = client.post("/", json={"name": "a", "price": "x"})
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("float_parsing", ["body", "price"])
    ]
    response = client.post("/", json={"name": "a"})
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("missing", ["body", "price"])
    ]
    response = client.post("/")
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [("missing", ["body"])]
    body = client.get("/openapi.json").json()["paths"]["/"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item"}


def test_body_declared_twice() -> None:
    def priced(item: Annotated[PricedItem | None, Body(embed=True)] = None) -> float | None:
        return item.price if item is not None else None

    def same(item: Item) -> str:
        return item.name

    app = App()

    @app.post("/embedded")
    def embedded(
        item: Annotated[Item, Body(embed=True)], price: float | None = Depends(priced)
    ) -> list[Any]:
        return [item.name, price]

    @app.post("/same")
    def identical(item: Item, name: str = Depends(same)) -> list[Any]:
        return [item.name, name]

    client = TestClient(app)
    response = client.post("/embedded", json={"item": {"name": "a", "price": 2}})
    assert response.json() == ["a", 2.0]
    response = client.post("/embedded", json={"item": {"name": "a"}})  # priced's declaration
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("missing", ["body", "item", "price"])
    ]
    response = client.post("/embedded", json={"item": {"name": "a", "price": "x"}})
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("float_parsing", ["body", "item", "price"])
    ]
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    body = schemas["Body_embedded_embedded_post"]  # the first declaration, embedded
    assert body["properties"]["item"] == {"$ref": "#/components/schemas/Item"}
    # Identical declarations are one body, as before.
    assert client.post("/same", json={"name": "b"}).json() == ["b", "b"]


def test_form_field_declared_twice() -> None:
    def short(name: Annotated[str, Form(max_length=3)] = "dep") -> str:
        return name

    app = App()

    @app.post("/")
    def index(name: Annotated[str, Form()], s: str = Depends(short)) -> list[str]:
        return [name, s]

    client = TestClient(app)
    assert client.post("/", data={"name": "abc"}).json() == ["abc", "abc"]
    response = client.post("/", data={"name": "abcd"})
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("string_too_long", ["body", "name"])
    ]
    response = client.post("/", data={})
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("missing", ["body", "name"])
    ]


class Paging(BaseModel):
    limit: int = 10


class StrictPaging(BaseModel):
    limit: int = 10
    order: str = "asc"


def test_param_model_declared_twice() -> None:
    def strict(paging: Annotated[StrictPaging, Query()]) -> str:
        return paging.order

    app = App()

    @app.get("/")
    def index(paging: Annotated[Paging, Query()], order: str = Depends(strict)) -> list[Any]:
        return [paging.limit, order]

    client = TestClient(app)
    assert client.get("/?limit=3&order=desc").json() == [3, "desc"]


def test_list_and_single_value_are_refused_at_start_up() -> None:
    def many(q: Annotated[list[int], Query()]) -> list[int]:
        return q

    app = App()

    @app.get("/")
    def index(q: int, m: list[int] = Depends(many)) -> int:
        return q

    with pytest.raises(ConfigurationError) as caught:
        app.build()
    assert caught.value.code == "param-conflict"
    assert "rename one" in str(caught.value)


def test_resolve_refuses_a_required_second_declaration() -> None:
    import asyncio

    def needs(limit: int) -> int:
        return limit

    def both(a: int = Depends(audit), b: int = Depends(needs)) -> int:
        return a + b

    app = App()

    async def resolve() -> None:
        async with app.resolve(both):
            pass

    with pytest.raises(ConfigurationError) as caught:
        asyncio.run(resolve())
    assert caught.value.code == "resolve-needs-request"


def test_upload_and_its_bytes_are_refused_at_start_up() -> None:
    def content(doc: Annotated[bytes, File()]) -> int:
        return len(doc)

    app = App()

    @app.post("/")
    def index(doc: UploadFile, size: int = Depends(content)) -> int:
        return size

    with pytest.raises(ConfigurationError) as caught:
        app.build()
    assert caught.value.code == "param-conflict"
