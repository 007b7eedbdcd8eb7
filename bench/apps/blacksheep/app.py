"""The four basic endpoints written idiomatically with BlackSheep.

BlackSheep binds and converts route and query parameters by name and validates
pydantic bodies through ``FromJSON``; range checks are written in the handler.
"""

from __future__ import annotations

from blacksheep import Application
from blacksheep import FromJSON
from blacksheep import json
from blacksheep import text
from pydantic import BaseModel

app = Application()
get = app.router.get
post = app.router.post


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@get("/plaintext")
async def plaintext():
    return text("Hello, World!")


@get("/json")
async def json_message():
    return json({"message": "Hello, World!"})


@get("/items/{id}")
async def read_item(id: int, q: str | None = None, limit: int = 10):
    if not 1 <= limit <= 100:
        return json({"detail": "limit must be between 1 and 100"}, status=422)
    return json({"id": id, "q": q, "limit": limit})


@post("/items")
async def create_item(item: FromJSON[Item]):
    return json(item.value.model_dump())
