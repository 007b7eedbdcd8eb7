"""Parameter models: several per source, beside plain parameters, optional, extra="forbid"."""

from __future__ import annotations

from typing import Annotated
from typing import Literal

import pytest
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

from trivium import App
from trivium import Body
from trivium import Cookie
from trivium import File
from trivium import Form
from trivium import Header
from trivium import Query
from trivium import UploadFile
from trivium import WebSocket
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


class Pagination(BaseModel):
    limit: int = Field(10, ge=1)
    offset: int = 0


class Filters(BaseModel):
    tags: list[str] = []


class DateRange(BaseModel):
    start: str
    end: str


def test_two_query_models_and_a_plain_parameter_share_the_query_string() -> None:
    app = App()

    @app.get("/items")
    async def items(
        page: Annotated[Pagination, Query()],
        filters: Annotated[Filters, Query()],
        search: str | None = None,
    ) -> dict[str, object]:
        return {"page": page, "filters": filters, "search": search}

    client = TestClient(app)
    response = client.get("/items?limit=5&tags=a&tags=b&search=x")
    assert response.json() == {
        "page": {"limit": 5, "offset": 0},
        "filters": {"tags": ["a", "b"]},
        "search": "x",
    }
    bad = client.get("/items?limit=0")
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["detail"]] == [["query", "limit"]]


def test_optional_model_is_none_until_one_of_its_fields_is_sent() -> None:
    app = App()

    @app.get("/items")
    async def items(
        limit: int = 10, span: Annotated[DateRange | None, Query()] = None
    ) -> dict[str, object]:
        return {"limit": limit, "span": span}

    client = TestClient(app)
    assert client.get("/items").json() == {"limit": 10, "span": None}
    assert client.get("/items?start=a&end=b").json()["span"] == {"start": "a", "end": "b"}
    partial = client.get("/items?start=a")
    assert partial.status_code == 422
    assert partial.json()["detail"][0]["loc"] == ["query", "end"]
    assert partial.json()["detail"][0]["input"] == {"start": "a"}


class ClientHeaders(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str
    x_client_version: str


def test_header_model_fields_are_read_and_reported_under_their_header_names() -> None:
    app = App()

    @app.get("/")
    async def read(headers: Annotated[ClientHeaders, Header()]) -> ClientHeaders:
        return headers

    client = TestClient(app)
    client.headers.clear()
    ok = client.get("/", headers={"x-client-version": "1.2"})
    assert ok.json() == {"host": "testserver", "x_client_version": "1.2"}
    missing = client.get("/")
    assert missing.status_code == 422
    assert missing.json()["detail"] == [
        {
            "type": "missing",
            "loc": ["header", "x-client-version"],
            "msg": "Field required",
            "input": {"host": "testserver"},
        }
    ]
    extra = client.get("/", headers={"x-client-version": "1", "x-tool": "plumbus"})
    assert extra.status_code == 422
    assert extra.json()["detail"][0]["type"] == "extra_forbidden"
    assert extra.json()["detail"][0]["loc"] == ["header", "x-tool"]


class Raw(BaseModel):
    x_token: str


def test_header_model_keeps_underscores_when_told_to() -> None:
    app = App()

    @app.get("/")
    async def read(headers: Annotated[Raw, Header(convert_underscores=False)]) -> Raw:
        return headers

    client = TestClient(app)
    assert client.get("/", headers={"x_token": "t"}).json() == {"x_token": "t"}
    assert client.get("/", headers={"x-token": "t"}).status_code == 422


class Prefs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    theme: str = "light"


def test_cookie_model_refuses_unknown_cookies_with_extra_forbid() -> None:
    app = App()

    @app.get("/")
    async def read(prefs: Annotated[Prefs, Cookie()]) -> Prefs:
        return prefs

    client = TestClient(app)
    client.cookies.set("theme", "dark")
    assert client.get("/").json() == {"theme": "dark"}
    client.cookies.set("tracker", "1")
    refused = client.get("/")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["cookie", "tracker"]


class Theme(BaseModel):
    theme: str


class ClientInfo(BaseModel):
    x_client_version: str


def test_a_422_of_a_cookie_or_header_model_echoes_no_other_cookie_or_header() -> None:
    """The session cookie (HttpOnly) and `Authorization` never come back in a 422."""
    app = App()

    @app.get("/theme")
    async def theme(prefs: Annotated[Theme, Cookie()]) -> Theme:
        return prefs

    @app.get("/strict")
    async def strict(prefs: Annotated[Prefs, Cookie()]) -> Prefs:
        return prefs

    @app.get("/client")
    async def client_info(info: Annotated[ClientInfo, Header()]) -> ClientInfo:
        return info

    client = TestClient(app)
    client.cookies.set("session", "HTTPONLY-SESSION-ID")
    missing = client.get("/theme")
    extra = client.get("/strict")
    header = client.get("/client", headers={"authorization": "Bearer SECRET"})
    for answer in (missing, extra, header):
        assert answer.status_code == 422
        assert "HTTPONLY-SESSION-ID" not in answer.text
        assert "SECRET" not in answer.text
    assert missing.json()["detail"][0]["input"] == {}
    assert extra.json()["detail"][0]["loc"] == ["cookie", "session"]
    assert extra.json()["detail"][0]["input"] is None


class Profile(BaseModel):
    name: str


class Preferences(BaseModel):
    tags: list[str] = []


def test_two_form_models_a_plain_field_and_a_file_in_one_form() -> None:
    app = App()

    @app.post("/profiles")
    async def create(
        profile: Annotated[Profile, Form()],
        prefs: Annotated[Preferences, Form()],
        token: Annotated[str, Form()],
        avatar: Annotated[UploadFile, File()],
    ) -> dict[str, object]:
        return {"profile": profile, "prefs": prefs, "token": token, "file": avatar.filename}

    client = TestClient(app)
    response = client.post(
        "/profiles",
        data={"name": "Rick", "tags": ["a", "b"], "token": "t"},
        files={"avatar": ("a.png", b"png")},
    )
    assert response.json() == {
        "profile": {"name": "Rick"},
        "prefs": {"tags": ["a", "b"]},
        "token": "t",
        "file": "a.png",
    }
    missing = client.post("/profiles", data={"token": "t"}, files={"avatar": ("a", b"")})
    assert [e["loc"] for e in missing.json()["detail"]] == [["body", "name"]]


class Person(BaseModel):
    kind: Literal["person"]
    name: str


class Company(BaseModel):
    kind: Literal["company"]
    company_name: str


def test_a_union_of_form_models_is_read_as_the_member_its_discriminator_names() -> None:
    app = App()

    @app.post("/contacts")
    async def create(
        contact: Annotated[Person | Company | None, Form(discriminator="kind")] = None,
    ) -> Person | Company | None:
        return contact

    client = TestClient(app)
    assert client.post("/contacts", data={"other": "x"}).json() is None
    assert client.post("/contacts", data={"kind": "company", "company_name": "Acme"}).json() == {
        "kind": "company",
        "company_name": "Acme",
    }
    wrong = client.post("/contacts", data={"kind": "person"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "person", "name"]


def test_list_of_bytes_file_parameter_reads_every_upload() -> None:
    app = App()

    @app.post("/files")
    async def upload(files: Annotated[list[bytes], File()]) -> list[int]:
        return [len(f) for f in files]

    files = [("files", ("a.txt", b"abc")), ("files", ("b.txt", b"de"))]
    assert TestClient(app).post("/files", files=files).json() == [3, 2]


def test_openapi_documents_models_beside_form_fields_with_all_of() -> None:
    app = App()

    @app.post("/profiles")
    async def create(profile: Annotated[Profile, Form()], token: Annotated[str, Form()]) -> None:
        pass

    @app.get("/items")
    async def items(span: Annotated[DateRange | None, Query()] = None) -> None:
        pass

    document = app.openapi()
    body = document["components"]["schemas"]["Body_create_profiles_post"]
    assert body["allOf"] == [{"$ref": "#/components/schemas/Profile"}]
    assert body["properties"] == {"token": {"title": "Token", "type": "string"}}
    assert body["required"] == ["token"]
    params = document["paths"]["/items"]["get"]["parameters"]
    assert [(p["name"], p["required"]) for p in params] == [("start", False), ("end", False)]


class Greeting(BaseModel):
    text: str


@pytest.mark.parametrize("marked", [False, True])
def test_a_model_parameter_on_a_websocket_is_refused_at_start_up(marked: bool) -> None:
    """A model is a body, which a websocket has not (it was read from the query string)."""
    app = App()
    if marked:

        @app.websocket("/ws")
        async def marked_ws(websocket: WebSocket, body: Annotated[Greeting, Body()]) -> None: ...

    else:

        @app.websocket("/ws")
        async def plain_ws(websocket: WebSocket, body: Greeting) -> None: ...

    with pytest.raises(ConfigurationError) as caught:
        app.build()
    assert caught.value.code == "websocket-body-param"


def test_a_compat_fastapi_app_echoes_a_header_models_input_as_fastapi_does() -> None:
    from trivium.compat.fastapi import FastAPI

    app = FastAPI()

    @app.get("/client")
    async def client_info(info: Annotated[ClientInfo, Header()]) -> ClientInfo:
        return info

    answer = TestClient(app).get("/client", headers={"x-other": "value"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["input"]["x-other"] == "value"
