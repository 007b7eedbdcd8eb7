"""The four basic endpoints written idiomatically with trivium.

Served by Granian over RSGI (``app.__rsgi__``) and over ASGI, and by uvicorn.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from trivium import App
from trivium import Query
from trivium.responses import PlainTextResponse

app = App()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


@app.get("/json")
async def json_message() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/items/{id}")
async def read_item(
    id: int,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, int | str | None]:
    return {"id": id, "q": q, "limit": limit}


@app.post("/items")
async def create_item(item: Item) -> Item:
    return item
