"""Fields with a pydantic validation alias are drawn, read and reported under that alias."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import AliasChoices
from pydantic import AliasPath
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

from trivium import App
from trivium.errors import ConfigurationError
from trivium.forms import BoundForm
from trivium.forms import Form
from trivium.params import Form as FormParam
from trivium.testing import TestClient


class Signup(Form):
    email_addr: str = Field(validation_alias="email")


class Contact(Form):
    email_addr: str = Field(validation_alias=AliasChoices("email", "mail"))


class ByName(Form):
    model_config = ConfigDict(populate_by_name=True)
    email_addr: str = Field(validation_alias="email")


class Both(Form):
    email_addr: str = Field(alias="drawn", validation_alias="read")


class Plain(BaseModel):
    email_addr: str = Field(validation_alias=AliasChoices("email", "mail"))
    nick: str = "anon"


def make_app() -> App:
    app = App()

    @app.post("/signup")
    async def signup(form: BoundForm[Signup]) -> dict[str, object]:
        if form.is_valid:
            return {"email": form.data.email_addr}
        return {"errors": form.errors, "general": list(form.non_field_errors)}

    @app.post("/contact")
    async def contact(form: BoundForm[Contact]) -> dict[str, object]:
        if form.is_valid:
            return {"email": form.data.email_addr}
        return {"errors": form.errors, "general": list(form.non_field_errors)}

    @app.post("/plain")
    async def plain(data: Annotated[Plain, FormParam()]) -> dict[str, object]:
        return data.model_dump()

    return app


def test_the_input_is_drawn_under_the_validation_alias() -> None:
    html = str(Signup.empty())
    assert 'name="email"' in html
    assert 'id="id_email"' in html
    assert "email_addr" not in html.replace("Email addr", "")


def test_a_submission_under_the_alias_binds_through_the_parameter() -> None:
    client = TestClient(make_app())
    assert client.post("/signup", data={"email": "a@b.c"}).json() == {"email": "a@b.c"}


def test_a_missing_aliased_field_reports_on_the_field() -> None:
    client = TestClient(make_app())
    body = client.post("/signup", data={"email_addr": "a@b.c"}).json()
    assert body == {"errors": {"email_addr": ["This field is required."]}, "general": []}


def test_alias_choices_draw_the_first_and_read_any() -> None:
    assert 'name="email"' in str(Contact.empty())
    client = TestClient(make_app())
    assert client.post("/contact", data={"email": "a@b.c"}).json() == {"email": "a@b.c"}
    assert client.post("/contact", data={"mail": "m@b.c"}).json() == {"email": "m@b.c"}
    assert Contact.bind({"mail": "m@b.c"}).data.email_addr == "m@b.c"
    missing = client.post("/contact", data={}).json()
    assert missing == {"errors": {"email_addr": ["This field is required."]}, "general": []}


def test_populate_by_name_reads_the_field_name_too() -> None:
    assert 'name="email"' in str(ByName.empty())
    assert ByName.bind({"email": "a"}).data.email_addr == "a"
    assert ByName.bind({"email_addr": "b"}).data.email_addr == "b"


def test_the_validation_alias_wins_over_the_alias() -> None:
    assert 'name="read"' in str(Both.empty())
    assert Both.bind({"read": "x"}).data.email_addr == "x"


def test_a_path_alias_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(ConfigurationError, match="validation_alias") as caught:

        class Nested(Form):
            email: str = Field(validation_alias=AliasPath("contact", "email"))

    assert caught.value.code == "form-field-unsupported"


def test_a_one_step_path_alias_is_an_input_name() -> None:
    class OneStep(Form):
        email_addr: str = Field(validation_alias=AliasPath("email"))

    assert 'name="email"' in str(OneStep.empty())
    assert OneStep.bind({"email": "a"}).data.email_addr == "a"


def test_a_fastapi_style_form_model_reads_alias_choices() -> None:
    client = TestClient(make_app())
    response = client.post("/plain", data={"mail": "m@b.c"})
    assert response.json() == {"email_addr": "m@b.c", "nick": "anon"}
    assert client.post("/plain", data={"email": "e@b.c"}).json()["email_addr"] == "e@b.c"
    missing = client.post("/plain", data={"nick": "x"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "email"]
