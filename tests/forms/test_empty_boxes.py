"""An emptied box reads the same through a `BoundForm` parameter as through `bind`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from trivium import App
from trivium import Request
from trivium.forms import BoundForm
from trivium.forms import Form
from trivium.params import Form as FormParam
from trivium.testing import TestClient


class Profile(Form):
    nickname: str | None = "anon"
    age: int | None = 18
    bio: str = "none"


class Filters(BaseModel):
    nickname: str | None = "anon"
    age: int | None = 18


CLEARED = {"nickname": "", "age": "", "bio": ""}
EXPECTED = {"nickname": None, "age": None, "bio": "none"}


def make_app() -> App:
    app = App()

    @app.post("/param")
    async def param(form: BoundForm[Profile]) -> dict[str, object]:
        return form.data.model_dump() if form.is_valid else {"errors": form.errors}

    @app.post("/from-request")
    async def from_request(request: Request) -> dict[str, object]:
        form = await Profile.from_request(request)
        return form.data.model_dump() if form.is_valid else {"errors": form.errors}

    @app.post("/fastapi-style")
    async def fastapi_style(data: Annotated[Filters, FormParam()]) -> dict[str, object]:
        return data.model_dump()

    return app


def test_a_cleared_optional_box_is_none_through_the_parameter() -> None:
    client = TestClient(make_app())
    assert client.post("/param", data=CLEARED).json() == EXPECTED


def test_every_way_of_reading_the_form_agrees() -> None:
    client = TestClient(make_app())
    assert client.post("/from-request", data=CLEARED).json() == EXPECTED
    assert Profile.bind(CLEARED).data.model_dump() == EXPECTED


def test_fields_left_out_still_take_their_default() -> None:
    client = TestClient(make_app())
    assert client.post("/param", data={"bio": "hi"}).json() == {
        "nickname": "anon",
        "age": 18,
        "bio": "hi",
    }


def test_an_invalid_value_is_still_reported() -> None:
    client = TestClient(make_app())
    body = client.post("/param", data={"age": "old"}).json()
    assert body == {"errors": {"age": ["Enter a whole number."]}}


def test_a_fastapi_style_form_model_keeps_the_default_for_an_empty_value() -> None:
    # FastAPI leaves an empty form value out, so the field's default applies.
    client = TestClient(make_app())
    response = client.post("/fastapi-style", data={"nickname": "", "age": ""})
    assert response.json() == {"nickname": "anon", "age": 18}
