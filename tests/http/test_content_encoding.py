"""A compressed request body is refused by name (415), never parsed as garbage.

Trivium does not decompress request bodies (a zip bomb would pass every size limit);
a client sending `Content-Encoding: gzip` learns so, with `Accept-Encoding: identity`
as RFC 7694 asks, instead of a "malformed JSON" 400 or form fields read from gzip bytes.
"""

from __future__ import annotations

import gzip
from typing import Annotated
from typing import Any

import pytest
from pydantic import BaseModel

from trivium import App
from trivium import Form
from trivium import Request
from trivium.testing import TestClient


class Item(BaseModel):
    name: str


def make_app() -> App:
    app = App()

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    @app.post("/raw-json")
    async def raw_json(request: Request) -> Any:
        return await request.json()

    @app.post("/form")
    async def form(title: Annotated[str, Form()]) -> dict[str, str]:
        return {"title": title}

    return app


JSON = b'{"name": "lamp"}'


@pytest.mark.parametrize("path", ["/items", "/raw-json"])
def test_a_gzipped_json_body_is_refused_with_415(path: str) -> None:
    with TestClient(make_app()) as client:
        answer = client.post(
            path,
            content=gzip.compress(JSON),
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        )
    assert answer.status_code == 415
    assert answer.json() == {
        "detail": "Unsupported Content-Encoding 'gzip': send the request body uncompressed"
    }
    assert answer.headers["accept-encoding"] == "identity"


def test_a_gzipped_form_is_refused_before_it_is_parsed() -> None:
    with TestClient(make_app()) as client:
        answer = client.post(
            "/form",
            content=gzip.compress(b"title=lamp"),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "content-encoding": "GZIP",
            },
        )
    assert answer.status_code == 415
    assert "Content-Encoding 'GZIP'" in answer.json()["detail"]


def test_identity_and_plain_bodies_are_read_as_usual() -> None:
    with TestClient(make_app()) as client:
        named = client.post(
            "/items",
            content=JSON,
            headers={"content-type": "application/json", "content-encoding": "identity"},
        )
        form = client.post("/form", data={"title": "lamp"})
        malformed = client.post(
            "/items", content=b"{nope", headers={"content-type": "application/json"}
        )
    assert named.json() == {"name": "lamp"}
    assert form.json() == {"title": "lamp"}
    assert malformed.status_code == 400  # an uncompressed bad body is still just malformed
