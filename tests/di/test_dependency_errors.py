"""A request with invalid parameters: the dependencies that need none of them still run.

FastAPI solves dependencies one by one, so an authentication dependency answers 401
(or a token check 400) before the 422 of an invalid body or query; trivium validates
once per route, and on that failure runs the valid dependencies in order before the 422.
"""

from collections.abc import Iterator
from typing import Annotated

from pydantic import BaseModel

from trivium import App
from trivium import Cookie
from trivium import Depends
from trivium import Header
from trivium import HTTPException
from trivium import Query
from trivium.openapi import OAuth2PasswordBearer
from trivium.testing import TestClient


class Item(BaseModel):
    name: str
    price: float


def _app(log: list[str]) -> App:
    async def verify_token(x_token: Annotated[str, Header()]) -> None:
        log.append("token")
        if x_token != "secret":
            raise HTTPException(400, "X-Token header invalid")

    def connection() -> Iterator[str]:
        log.append("open")
        try:
            yield "db"
        finally:
            log.append("close")

    async def needs_db_and_page(
        db: Annotated[str, Depends(connection)], page: Annotated[int, Query(ge=1)] = 1
    ) -> int:
        log.append("paged")
        return page

    app = App(dependencies=[Depends(verify_token)])

    @app.post("/items")
    async def create(
        item: Item, page: Annotated[int, Depends(needs_db_and_page)], q: int = 0
    ) -> Item:
        log.append("handler")
        return item

    return app


def test_a_failing_dependency_answers_before_the_invalid_body() -> None:
    log: list[str] = []
    client = TestClient(_app(log))
    response = client.post("/items", headers={"x-token": "wrong"}, json={"name": 1})
    assert response.status_code == 400
    assert response.json() == {"detail": "X-Token header invalid"}
    assert log == ["token"]


def test_valid_dependencies_run_and_tear_down_then_422_lists_every_error() -> None:
    log: list[str] = []
    client = TestClient(_app(log))
    response = client.post("/items?q=x", headers={"x-token": "secret"}, json={"name": "a"})
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert locs == [["query", "q"], ["body", "price"]]
    assert log == ["token", "open", "paged", "close"]


def test_a_dependency_whose_own_parameter_is_invalid_is_skipped_with_its_dependants() -> None:
    log: list[str] = []
    client = TestClient(_app(log))
    response = client.post("/items?page=0", headers={"x-token": "secret"}, json={})
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert ["query", "page"] in locs
    # `connection` needs nothing invalid and runs; `needs_db_and_page` does not.
    assert log == ["token", "open", "close"]


def test_missing_credentials_answer_401_before_an_invalid_body() -> None:
    oauth2 = OAuth2PasswordBearer(tokenUrl="token")
    app = App()

    @app.post("/items")
    async def create(item: Item, token: Annotated[str, Depends(oauth2)]) -> Item:
        return item

    client = TestClient(app)
    response = client.post("/items", json={"name": "a"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    response = client.post("/items", json={"name": "a"}, headers={"Authorization": "Bearer t"})
    assert response.status_code == 422


def test_an_optional_parameter_that_failed_does_not_fall_back_to_its_default() -> None:
    calls: list[int] = []

    async def paging(
        page: Annotated[int, Query()] = 1, session: Annotated[str, Cookie()] = ""
    ) -> int:
        calls.append(page)
        return page

    app = App()

    @app.get("/")
    async def index(page: Annotated[int, Depends(paging)], q: Annotated[int, Query()]) -> int:
        return page

    client = TestClient(app)
    assert client.get("/?page=x").status_code == 422  # page invalid, q missing
    assert calls == []
    assert client.get("/?page=2").status_code == 422  # only q missing: paging runs
    assert calls == [2]


async def api_key(x_key: Annotated[str, Header()]) -> None:
    if x_key != "k":
        raise HTTPException(403, "bad key")


def test_app_dependencies_guard_the_routes_not_the_docs_nor_exempted_routes() -> None:
    app = App(dependencies=[Depends(api_key)])

    @app.get("/items")
    async def items() -> list[int]:
        return [1]

    @app.get("/health", app_dependencies=False)
    async def health() -> str:
        return "ok"

    client = TestClient(app)
    assert client.get("/items").status_code == 422
    assert client.get("/items", headers={"x-key": "no"}).status_code == 403
    assert client.get("/items", headers={"x-key": "k"}).json() == [1]
    assert client.get("/health").json() == "ok"
    assert client.get("/docs").status_code == 200
    document = client.get("/openapi.json")
    assert document.status_code == 200
    assert "/health" in document.json()["paths"]


class OwnerError(Exception):
    pass


def owner() -> Iterator[str]:
    try:
        yield "Rick"
    except OwnerError as exc:
        raise HTTPException(400, f"Owner error: {exc}") from exc


def test_a_generator_dependency_turns_the_handlers_error_into_the_answer() -> None:
    app = App()

    @app.get("/items/{item_id}")
    async def item(item_id: str, username: Annotated[str, Depends(owner)]) -> str:
        if item_id == "portal-gun":
            raise OwnerError(username)
        return item_id

    client = TestClient(app)
    assert client.get("/items/plumbus").json() == "plumbus"
    response = client.get("/items/portal-gun")
    assert response.status_code == 400
    assert response.json() == {"detail": "Owner error: Rick"}


async def paging(skip: int = 0, limit: int = 10) -> tuple[int, int]:
    return skip, limit


async def token_header(x_token: Annotated[str, Header()]) -> None:
    return None


def test_documented_parameters_put_the_handlers_own_before_its_dependencies() -> None:
    app = App(dependencies=[Depends(token_header)])

    @app.get("/items")
    async def items(page: Annotated[tuple[int, int], Depends(paging)], q: str) -> list[int]:
        return []

    parameters = TestClient(app).get("/openapi.json").json()["paths"]["/items"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["q", "skip", "limit", "x-token"]
