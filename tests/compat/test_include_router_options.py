"""`include_router`'s FastAPI keywords: each works as in FastAPI or raises."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from trivium.compat.fastapi import APIRouter
from trivium.compat.fastapi import Depends
from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi.responses import PlainTextResponse
from trivium.compat.fastapi.routing import APIRoute
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


class Err(BaseModel):
    msg: str


def items() -> APIRouter:
    router = APIRouter()

    @router.get("/a")
    def read() -> str:
        return "hello"

    return router


def test_include_router_options_apply_as_in_fastapi() -> None:
    calls: list[str] = []

    def audit() -> None:
        calls.append("audit")

    def unique_id(route: APIRoute) -> str:
        return f"gen-{route.name}"

    app = FastAPI()
    app.include_router(
        items(),
        prefix="/p",
        tags=["outer"],
        dependencies=[Depends(audit)],
        default_response_class=PlainTextResponse,
        responses={404: {"model": Err}},
        deprecated=True,
        generate_unique_id_function=unique_id,
    )
    app.include_router(items(), prefix="/hidden", include_in_schema=False)
    client = TestClient(app)

    response = client.get("/p/a")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "hello"
    assert calls == ["audit"]
    assert client.get("/hidden/a").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert list(paths) == ["/p/a"]
    op = paths["/p/a"]["get"]
    assert op["tags"] == ["outer"]
    assert op["deprecated"] is True
    assert op["operationId"] == "gen-read"
    assert op["responses"]["200"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert op["responses"]["404"]["description"] == "Not Found"


@pytest.mark.parametrize("router_class", [FastAPI, APIRouter])
def test_include_router_with_callbacks_raises_unsupported_option(router_class: Any) -> None:
    callbacks = APIRouter()

    @callbacks.post("/invoices")
    def invoice_notification() -> None:
        pass

    with pytest.raises(ConfigurationError, match="callbacks") as caught:
        router_class().include_router(items(), callbacks=callbacks.routes)
    assert caught.value.code == "unsupported-option"


def test_include_router_with_no_callbacks_is_accepted() -> None:
    app = FastAPI()
    app.include_router(items(), callbacks=[])
    assert TestClient(app).get("/a").json() == "hello"
