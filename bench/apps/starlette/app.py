"""The four basic endpoints written idiomatically with Starlette.

Starlette has no validation layer of its own; pydantic models validate the path,
query and body, and a ValidationError handler answers 422.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel
from pydantic import Field
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import PlainTextResponse
from starlette.routing import Route


class ItemQuery(BaseModel):
    id: int
    q: str | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 10


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def json_message(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def read_item(request: Request) -> JSONResponse:
    query = ItemQuery.model_validate({**request.query_params, **request.path_params})
    return JSONResponse(query.model_dump())


async def create_item(request: Request) -> JSONResponse:
    body = await request.body()
    try:
        item = Item.model_validate_json(body)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise HTTPException(400, "malformed JSON body") from exc
        raise
    return JSONResponse(item.model_dump())


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    return JSONResponse({"detail": exc.errors(include_url=False)}, status_code=422)


app = Starlette(
    routes=[
        Route("/plaintext", plaintext),
        Route("/json", json_message),
        Route("/items/{id}", read_item),
        Route("/items", create_item, methods=["POST"]),
    ],
    exception_handlers={ValidationError: validation_error},
)
