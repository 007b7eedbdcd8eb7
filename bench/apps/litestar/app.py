"""The four basic endpoints written idiomatically with Litestar (msgspec models)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Litestar
from litestar import MediaType
from litestar import get
from litestar import post
from litestar.params import Parameter


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "Hello, World!"


@get("/json")
async def json_message() -> dict[str, str]:
    return {"message": "Hello, World!"}


# The segment is typed by the signature, not the path: an invalid id gets 400, not 404.
@get("/items/{id:str}")
async def read_item(
    id: int,
    q: str | None = None,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 10,
) -> dict[str, int | str | None]:
    return {"id": id, "q": q, "limit": limit}


@post("/items", status_code=200)
async def create_item(data: Item) -> Item:
    return data


app = Litestar(route_handlers=[plaintext, json_message, read_item, create_item])
