"""The four basic endpoints written idiomatically with FastAPI."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI
from fastapi import Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, World!"


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
