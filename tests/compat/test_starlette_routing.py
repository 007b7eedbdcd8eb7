"""Starlette's `Route` and `Mount` in a compat app, as a ported Starlette or FastAPI app uses them.

The endpoints below are deliberately defined in a module that imports no `Request`:
a Starlette endpoint's annotations must resolve whatever its module holds.
"""

from __future__ import annotations

from typing import Any

import pytest

from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi import HTTPException
from trivium.compat.fastapi.responses import JSONResponse
from trivium.compat.fastapi.routing import APIRoute
from trivium.compat.fastapi.testclient import TestClient
from trivium.compat.starlette.applications import Starlette
from trivium.compat.starlette.responses import PlainTextResponse
from trivium.compat.starlette.routing import Mount
from trivium.compat.starlette.routing import Route


async def health(request):  # type: ignore[no-untyped-def]  # as Starlette apps write it
    return PlainTextResponse("ok")


def sync_health(req: Any) -> PlainTextResponse:
    return PlainTextResponse(f"ok {req.url.path}")


async def users(request: Any) -> JSONResponse:
    return JSONResponse(["alice"])


async def user(request: Any) -> JSONResponse:
    return JSONResponse({"name": request.path_params["name"]})


async def missing(request: Any) -> JSONResponse:
    raise HTTPException(404, "no such user")


def test_a_starlette_route_is_served_by_a_fastapi_app() -> None:
    app = FastAPI(routes=[Route("/health", health)])
    response = TestClient(app).get("/health")
    assert (response.status_code, response.text) == (200, "ok")


def test_a_sync_endpoint_gets_the_request_whatever_its_parameter_is_called() -> None:
    app = FastAPI(routes=[Route("/health", sync_health)])
    assert TestClient(app).get("/health").text == "ok /health"


def test_starlette_routes_are_left_out_of_the_document_as_fastapi_does() -> None:
    app = FastAPI(routes=[Route("/health", health)])
    assert TestClient(app).get("/openapi.json").json()["paths"] == {}


def test_a_starlette_route_is_not_an_api_route() -> None:
    assert not isinstance(Route("/health", health), APIRoute)


def test_mount_serves_a_list_of_routes_under_its_prefix() -> None:
    app = FastAPI(routes=[Mount("/legacy", routes=[Route("/users", users)])])
    assert TestClient(app).get("/legacy/users").json() == ["alice"]


def test_a_mounted_route_is_reached_by_mount_and_route_name() -> None:
    routes = [Route("/users/{name}", user, name="user")]
    app = Starlette(routes=[Mount("/legacy", routes=routes, name="legacy")])
    assert app.url_path_for("legacy:user", name="bob") == "/legacy/users/bob"
    assert TestClient(app).get("/legacy/users/bob").json() == {"name": "bob"}


def test_the_apps_exception_handlers_answer_for_mounted_routes() -> None:
    async def teapot(request: Any, exc: HTTPException) -> PlainTextResponse:
        return PlainTextResponse(f"handled: {exc.detail}", status_code=418)

    app = FastAPI(
        routes=[Mount("/legacy", routes=[Route("/users", missing)])],
        exception_handlers={HTTPException: teapot},
    )
    response = TestClient(app).get("/legacy/users")
    assert (response.status_code, response.text) == (418, "handled: no such user")


def test_mounted_routes_share_the_apps_state() -> None:
    async def read_state(request: Any) -> JSONResponse:
        return JSONResponse(request.app.state.greeting)

    app = Starlette(routes=[Mount("/legacy", routes=[Route("/state", read_state)])])
    app.state.greeting = "hello"
    assert TestClient(app).get("/legacy/state").json() == "hello"


def test_mount_lists_its_routes() -> None:
    route = Route("/users", users)
    assert Mount("/legacy", routes=[route]).routes == [route]


@pytest.mark.parametrize("arguments", [{}, {"app": object(), "routes": []}])
def test_mount_takes_either_an_app_or_routes(arguments: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="either app"):
        Mount("/legacy", **arguments)
