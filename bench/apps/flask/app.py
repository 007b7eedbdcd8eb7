"""The four basic endpoints written idiomatically with Flask.

Flask has no validation layer of its own; pydantic models validate the path,
query and JSON body, and a ValidationError handler answers 422.
"""

from __future__ import annotations

from typing import Annotated

from flask import Flask
from flask import request
from pydantic import BaseModel
from pydantic import Field
from pydantic import ValidationError

app = Flask(__name__)


class ItemQuery(BaseModel):
    id: int
    q: str | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 10


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@app.errorhandler(ValidationError)
def validation_error(exc: ValidationError):
    return {"detail": exc.errors(include_url=False)}, 422


@app.get("/plaintext")
def plaintext():
    return "Hello, World!", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/json")
def json_message():
    return {"message": "Hello, World!"}


@app.get("/items/<id>")
def read_item(id: str):
    return ItemQuery.model_validate({**request.args.to_dict(), "id": id}).model_dump()


@app.post("/items")
def create_item():
    return Item.model_validate(request.get_json()).model_dump()
