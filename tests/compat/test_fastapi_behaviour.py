"""FastAPI's behaviour through the compat import paths, compared with real FastAPI."""

from __future__ import annotations

import logging
from typing import Annotated
from typing import Any

import pytest
from pydantic import BaseModel

from trivium.compat.fastapi import APIRouter
from trivium.compat.fastapi import BackgroundTasks
from trivium.compat.fastapi import Depends
from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi import Form
from trivium.compat.fastapi import Request
from trivium.compat.fastapi import Security
from trivium.compat.fastapi.encoders import jsonable_encoder
from trivium.compat.fastapi.middleware.cors import CORSMiddleware
from trivium.compat.fastapi.responses import JSONResponse
from trivium.compat.fastapi.responses import ORJSONResponse
from trivium.compat.fastapi.security import APIKeyHeader
from trivium.compat.fastapi.security import OAuth2PasswordBearer
from trivium.compat.fastapi.security import SecurityScopes
from trivium.compat.fastapi.testclient import TestClient
from trivium.compat.starlette.middleware.base import BaseHTTPMiddleware
from trivium.compat.starlette.middleware.base import RequestResponseEndpoint
from trivium.compat.starlette.responses import Response
from trivium.errors import ConfigurationError

fastapi = pytest.importorskip("fastapi")
fastapi_testclient = pytest.importorskip("fastapi.testclient")


class Item(BaseModel):
    name: str
    price: float


class User(BaseModel):
    id: int
    email: str
    password_hash: str


oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Read me", "items": "Items"})


def current_user(scopes: SecurityScopes, token: Annotated[str, Depends(oauth2)]) -> str:
    return f"{token}:{scopes.scope_str}"


def active_user(user: Annotated[str, Security(current_user, scopes=["me"])]) -> str:
    return user


class Key(APIKeyHeader):
    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return request.headers.get(self.model.name, "none")


key = Key(name="x-key")


def build(app: Any) -> Any:
    """Declare one app on either framework (the two `FastAPI` classes share the API)."""

    @app.post("/items/")
    async def create(item: Item) -> Item:
        return item

    @app.get("/users/{user_id}", response_model=User, response_model_exclude={"password_hash"})
    async def user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "email": "a@example.com", "password_hash": "argon2$x"}

    return app


def both() -> tuple[Any, Any]:
    ours = TestClient(build(FastAPI()))
    theirs = fastapi_testclient.TestClient(build(fastapi.FastAPI()))
    return ours, theirs


def test_trailing_slash_redirect_is_307_with_an_absolute_url() -> None:
    ours, theirs = both()
    mine = ours.post("/items", json={"name": "a", "price": 1}, follow_redirects=False)
    real = theirs.post("/items", json={"name": "a", "price": 1}, follow_redirects=False)
    assert (mine.status_code, mine.headers["location"]) == (
        real.status_code,
        real.headers["location"],
    )
    assert mine.status_code == 307


def test_malformed_json_is_a_422_like_fastapis() -> None:
    ours, theirs = both()
    body = b'{"name": "a", "price": }'
    headers = {"content-type": "application/json"}
    mine = ours.post("/items/", content=body, headers=headers)
    real = theirs.post("/items/", content=body, headers=headers)
    assert mine.status_code == real.status_code == 422
    (error,) = mine.json()["detail"]
    (expected,) = real.json()["detail"]
    assert error == expected  # same position and message (the standard library's)


def test_json_without_content_type_is_parsed_when_not_strict() -> None:
    ours = TestClient(build(FastAPI(strict_content_type=False)))
    theirs = fastapi_testclient.TestClient(build(fastapi.FastAPI(strict_content_type=False)))
    body = b'{"name": "a", "price": 2}'
    assert ours.post("/items/", content=body).json() == {"name": "a", "price": 2.0}
    assert theirs.post("/items/", content=body).json() == {"name": "a", "price": 2.0}


@pytest.mark.parametrize("headers", [{}, {"content-type": "text/plain"}])
def test_a_body_not_sent_as_json_is_a_422_with_the_text_as_input(headers: dict[str, str]) -> None:
    ours, theirs = both()
    body = b'{"name": "a", "price": 2}'
    mine = ours.post("/items/", content=body, headers=headers)
    real = theirs.post("/items/", content=body, headers=headers)
    assert mine.status_code == real.status_code == 422
    assert mine.json() == real.json()


def test_validation_error_body_matches_fastapi() -> None:
    ours, theirs = both()
    mine = ours.post("/items/", json={"name": "a"})
    real = theirs.post("/items/", json={"name": "a"})
    assert mine.status_code == real.status_code == 422
    strip = [{k: e[k] for k in ("type", "loc", "msg", "input")} for e in real.json()["detail"]]
    assert [
        {k: e[k] for k in ("type", "loc", "msg", "input")} for e in mine.json()["detail"]
    ] == strip


def test_response_model_exclude_hides_the_password_hash_as_fastapi() -> None:
    ours, theirs = both()
    assert ours.get("/users/3").json() == theirs.get("/users/3").json()
    assert "password_hash" not in ours.get("/users/3").json()


def test_cors_wildcard_with_credentials_reflects_the_origin_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = build(FastAPI())
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    with caplog.at_level(logging.WARNING, logger="trivium.compat"):
        client = TestClient(app)
        response = client.get("/users/1", headers={"origin": "https://evil.example"})
    assert response.headers["access-control-allow-origin"] == "https://evil.example"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in response.headers["vary"]
    assert any("any web site can read" in r.getMessage() for r in caplog.records)


def test_trivium_cors_still_refuses_the_wildcard_with_credentials() -> None:
    from trivium import App
    from trivium.middleware import CORSMiddleware as StrictCORS
    from trivium.testing import TestClient as StrictClient

    app = App()
    app.add_middleware(StrictCORS, allow_origins=["*"], allow_credentials=True)
    with pytest.raises(ConfigurationError, match="cors-wildcard-credentials"):
        StrictClient(app).get("/")


def test_base_http_middleware_from_starlettes_path() -> None:
    class Timing(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            response.headers["x-timing"] = "1"
            return response

    app = build(FastAPI())
    app.add_middleware(Timing)
    response = TestClient(app).get("/users/1")
    assert response.headers["x-timing"] == "1"
    assert response.json()["id"] == 1


def test_security_scopes_accumulate_along_the_chain() -> None:
    app = FastAPI()

    @app.get("/me/items")
    async def items(user: Annotated[str, Security(active_user, scopes=["items"])]) -> str:
        return user

    client = TestClient(app)
    assert client.get("/me/items", headers={"authorization": "Bearer t"}).json() == "t:items me"
    security = app.openapi()["paths"]["/me/items"]["get"]["security"]
    assert security == [{"OAuth2PasswordBearer": ["items", "me"]}]


def test_api_key_header_subclass_reads_model_name() -> None:
    app = FastAPI()

    @app.get("/key")
    async def read(value: Annotated[str, Depends(key)]) -> str:
        return value

    assert TestClient(app).get("/key", headers={"x-key": "k1"}).json() == "k1"
    assert key.model.in_ == "header"


def test_jsonable_encoder_matches_fastapis() -> None:
    import datetime
    import decimal
    import enum
    import uuid

    class Color(enum.Enum):
        RED = "red"

    value = {
        "item": Item(name="a", price=1.5),
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "id": uuid.UUID(int=1),
        "tags": {"x"},
        "money": decimal.Decimal("1.50"),
        "count": decimal.Decimal(3),
        "color": Color.RED,
        "none": None,
        "delta": datetime.timedelta(seconds=90),
    }
    assert jsonable_encoder(value) == fastapi.encoders.jsonable_encoder(value)
    assert jsonable_encoder(value, exclude_none=True) == fastapi.encoders.jsonable_encoder(
        value, exclude_none=True
    )


def test_empty_router_path_is_checked_at_include_time() -> None:
    router = APIRouter()

    @router.get("")
    async def root() -> str:
        return "root"

    app = FastAPI()
    app.include_router(router, prefix="/things")
    assert TestClient(app).get("/things").json() == "root"
    with pytest.raises(ConfigurationError, match="empty path"):
        FastAPI().include_router(router)


def test_add_api_route_and_app_router() -> None:
    app = FastAPI()

    async def hello() -> str:
        return "hi"

    app.add_api_route("/hello", hello, methods=["GET"])
    assert app.router is app
    assert TestClient(app).get("/hello").json() == "hi"


def test_unknown_constructor_option_raises_naming_it() -> None:
    with pytest.raises(TypeError, match="openapi_extra_info"):
        FastAPI(openapi_extra_info={})  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"callbacks": [object()]}, "callbacks"),
        ({"default": object()}, "default"),
        ({"dependency_overrides_provider": object()}, "dependency_overrides_provider"),
    ],
)
def test_unsupported_router_options_raise_naming_them(options: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        APIRouter(**options)


def test_default_security_headers_stay_on() -> None:
    ours, _ = both()
    assert ours.get("/users/1").headers["x-content-type-options"] == "nosniff"


def test_on_event_warns_as_fastapi_does() -> None:
    app = FastAPI()
    with pytest.warns(DeprecationWarning, match="lifespan"):

        @app.on_event("startup")
        async def start() -> None: ...


def test_root_path_warns_with_fastapis_category() -> None:
    from trivium.compat.fastapi.exceptions import FastAPIDeprecationWarning

    with pytest.warns(FastAPIDeprecationWarning, match="--root-path"):
        app = FastAPI(root_path="/api/v1")
    assert app.root_path == "/api/v1"


def test_default_oauth2_redirect_url_is_accepted_and_others_raise() -> None:
    FastAPI(docs_url=None, swagger_ui_oauth2_redirect_url="/docs/oauth2-redirect")
    with pytest.raises(ConfigurationError, match="swagger_ui_oauth2_redirect_url"):
        FastAPI(swagger_ui_oauth2_redirect_url="/elsewhere")


def test_openapi_document_matches_fastapis_for_optional_fields_and_security() -> None:
    def declare(app: Any) -> Any:
        scheme = (
            OAuth2PasswordBearer(tokenUrl="token")
            if isinstance(app, FastAPI)
            else fastapi.security.OAuth2PasswordBearer(tokenUrl="token")
        )
        dependency = Depends(scheme) if isinstance(app, FastAPI) else fastapi.Depends(scheme)

        @app.get("/items/")
        async def items(q: str | None = None, token: str = dependency) -> dict[str, str]:
            return {"token": token}

        return app

    mine = TestClient(declare(FastAPI())).get("/openapi.json").json()
    real = fastapi_testclient.TestClient(declare(fastapi.FastAPI())).get("/openapi.json").json()
    mine_get, real_get = mine["paths"]["/items/"]["get"], real["paths"]["/items/"]["get"]
    assert mine_get["parameters"] == real_get["parameters"]
    assert mine_get["security"] == real_get["security"]
    assert sorted(mine_get["responses"]) == sorted(real_get["responses"]) == ["200", "422"]


class StrictFilter(BaseModel):
    model_config = {"extra": "forbid"}
    limit: int = 10


def test_query_model_forbidding_extra_refuses_unknown_parameters_as_fastapi() -> None:
    def declare(app: Any, query: Any) -> Any:
        @app.get("/items/")
        async def items(filters: StrictFilter = query()) -> dict[str, int]:
            return {"limit": filters.limit}

        return app

    from trivium.compat.fastapi import Query

    ours = TestClient(declare(FastAPI(), Query))
    theirs = fastapi_testclient.TestClient(declare(fastapi.FastAPI(), fastapi.Query))
    for url in ("/items/?limit=3", "/items/?limit=3&tool=plumbus"):
        mine, real = ours.get(url), theirs.get(url)
        assert (mine.status_code, mine.json()) == (real.status_code, real.json())
    assert ours.get("/items/?tool=x").status_code == 422


class Session(BaseModel):
    session_id: str
    tracker: str | None = None


def test_missing_field_of_a_cookie_model_reports_the_models_input_as_fastapi() -> None:
    def declare(app: Any, cookie: Any) -> Any:
        @app.get("/items/")
        async def items(cookies: Session = cookie()) -> dict[str, str]:
            return {"id": cookies.session_id}

        return app

    from trivium.compat.fastapi import Cookie

    ours = TestClient(declare(FastAPI(), Cookie))
    theirs = fastapi_testclient.TestClient(declare(fastapi.FastAPI(), fastapi.Cookie))
    ours.cookies.set("tracker", "t")
    theirs.cookies.set("tracker", "t")
    mine, real = ours.get("/items/"), theirs.get("/items/")
    assert (mine.status_code, mine.json()) == (real.status_code, real.json())


def test_timedelta_in_a_plain_response_is_seconds() -> None:
    import datetime

    app = FastAPI()

    @app.get("/wait")
    async def wait():  # type: ignore[no-untyped-def]  # no annotation: the plain JSON path
        return {"wait": datetime.timedelta(minutes=1, seconds=30)}

    assert TestClient(app).get("/wait").json() == {"wait": 90.0}


def test_json_sent_to_a_form_endpoint_is_a_422_as_fastapi() -> None:
    def declare(app: Any, form: Any) -> Any:
        @app.post("/login/")
        async def login(username: str = form(), password: str = form()) -> dict[str, str]:
            return {"username": username}

        return app

    ours = TestClient(declare(FastAPI(), Form))
    theirs = fastapi_testclient.TestClient(declare(fastapi.FastAPI(), fastapi.Form))
    mine = ours.post("/login/", json={"username": "a", "password": "b"})
    real = theirs.post("/login/", json={"username": "a", "password": "b"})
    assert mine.status_code == real.status_code == 422
    assert [e["loc"] for e in mine.json()["detail"]] == [e["loc"] for e in real.json()["detail"]]
    assert ours.post("/login/", data={"username": "a", "password": "b"}).json() == {"username": "a"}


def test_fastapi_attributes_and_max_body_size() -> None:
    app = FastAPI(max_body_size=8)

    @app.post("/echo")
    async def echo(request: Request) -> int:
        return len(await request.body())

    assert app.swagger_ui_oauth2_redirect_url == "/docs/oauth2-redirect"
    assert app.swagger_ui_init_oauth is None
    client = TestClient(app)
    assert client.post("/echo", content=b"1234").json() == 4
    assert client.post("/echo", content=b"123456789").status_code == 413


@pytest.mark.parametrize("multipart", [False, True])
def test_form_limits_on_the_app_a_route_a_router_and_an_include(multipart: bool) -> None:
    app = FastAPI(form_limits={"max_fields": 5})

    @app.post("/notes")
    async def notes(text: Annotated[str, Form()]) -> int:
        return len(text)

    @app.post("/documents", form_limits={"max_part_size": 2 * 1024 * 1024})
    async def documents(text: Annotated[str, Form()]) -> int:
        return len(text)

    router = APIRouter(form_limits={"max_fields": 2})

    @router.post("/r")
    async def routed(text: Annotated[str, Form()]) -> int:
        return len(text)

    app.include_router(router, prefix="/x", form_limits={"max_fields": 1, "max_part_size": 8})
    client = TestClient(app)

    def submit(path: str, fields: dict[str, str]) -> Any:
        if multipart:
            return client.post(path, files={k: (None, v) for k, v in fields.items()})
        return client.post(path, data=fields)

    big = "x" * (1024 * 1024 + 1)
    six = {"text": "ok", **{str(i): "v" for i in range(5)}}
    assert submit("/notes", {"text": "ok"}).json() == 2
    # FastAPI answers 400 here; trivium 413 (documented in docs/compat.md).
    assert submit("/notes", {"text": big}).status_code == 413
    assert submit("/documents", {"text": big}).json() == len(big)  # the route's own size
    assert submit("/documents", dict(list(six.items())[:5])).json() == 2
    assert submit("/documents", six).status_code == 400  # max_fields from the app
    # The router's max_fields (2) wins over the include's (1); max_part_size comes from it.
    assert submit("/x/r", {"text": "ok", "a": "b"}).json() == 2
    assert submit("/x/r", {"text": "ok", "a": "b", "c": "d"}).status_code == 400
    assert submit("/x/r", {"text": "123456789"}).status_code == 413


def test_form_limits_refuse_unknown_keys_and_bad_values() -> None:
    with pytest.raises(TypeError, match="'max_feilds'; the keys are max_fields"):
        FastAPI(form_limits={"max_feilds": 3})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="max_files must be an integer >= 0"):
        APIRouter(form_limits={"max_files": -1})
    with pytest.raises(ConfigurationError, match="max_part_size must be an integer >= 0"):
        FastAPI().include_router(APIRouter(), form_limits={"max_part_size": True})
    app = FastAPI()

    @app.post("/typo", form_limits={"max_file": 1})  # type: ignore[dict-item]
    async def typo() -> None: ...

    with pytest.raises(TypeError, match="unexpected key 'max_file'"):
        TestClient(app).post("/typo")


def test_include_router_max_body_size() -> None:
    router = APIRouter()

    @router.post("/echo")
    async def echo(request: Request) -> int:
        return len(await request.body())

    @router.post("/own", max_body_size=100)
    async def own(request: Request) -> int:
        return len(await request.body())

    app = FastAPI()
    app.include_router(router, max_body_size=4)
    client = TestClient(app)
    assert client.post("/echo", content=b"1234").json() == 4
    assert client.post("/echo", content=b"12345").status_code == 413
    assert client.post("/own", content=b"12345").json() == 5  # the route's own limit wins


def test_background_tasks_given_to_the_response_run_once() -> None:
    sent: list[str] = []
    app = FastAPI()

    @app.post("/signup")
    def signup(tasks: BackgroundTasks) -> JSONResponse:
        tasks.add_task(sent.append, "welcome")
        return JSONResponse({"ok": True}, background=tasks)

    assert TestClient(app).post("/signup").json() == {"ok": True}
    assert sent == ["welcome"]


@pytest.mark.parametrize("where", ["route", "app"])
def test_a_204_has_no_body_whatever_the_response_class(where: str) -> None:
    app = FastAPI(default_response_class=ORJSONResponse) if where == "app" else FastAPI()
    options = {"response_class": ORJSONResponse} if where == "route" else {}

    @app.delete("/items/{item_id}", status_code=204, **options)
    def delete(item_id: int) -> None:
        return None

    @app.get("/explicit")
    def explicit() -> JSONResponse:
        return JSONResponse(None, status_code=204)

    client = TestClient(app)
    for response in (client.delete("/items/1"), client.get("/explicit")):
        assert response.status_code == 204
        assert response.content == b""
        assert "content-length" not in response.headers
