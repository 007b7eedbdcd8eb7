from __future__ import annotations

import datetime
import enum
from typing import Annotated
from typing import Literal

import pytest
from pydantic import BaseModel
from pydantic import Field
from pydantic import field_validator
from pydantic import model_validator

from trivium.forms import Choices
from trivium.forms import Form
from trivium.forms import PasswordInput
from trivium.forms import bind
from trivium.http import FormData

pytestmark = pytest.mark.drives_no_app


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"
    GREEN = "green"


class Account(Form):
    username: Annotated[str, Field(max_length=10)]
    password: Annotated[str, PasswordInput(), Field(min_length=8)]
    age: int | None = None
    newsletter: bool = False
    colours: list[Colour] = []
    born: datetime.date | None = None

    @field_validator("username")
    @classmethod
    def no_spaces(cls, value: str) -> str:
        if " " in value:
            raise ValueError("Usernames have no spaces")
        return value


def test_valid_data_gives_the_model_instance() -> None:
    form = Account.bind(
        {"username": "ada", "password": "correct horse", "age": "36", "born": "1815-12-10"}
    )
    assert form.is_valid
    assert form.data == Account(
        username="ada", password="correct horse", age=36, born=datetime.date(1815, 12, 10)
    )
    assert form.errors == {}


def test_errors_are_per_field_human_messages() -> None:
    form = Account.bind({"username": "a b", "password": "short", "age": "old"})
    assert not form.is_valid
    assert form.errors == {
        "username": ["Usernames have no spaces."],
        "password": ["String should have at least 8 characters."],
        "age": ["Enter a whole number."],
    }


def test_empty_required_field_is_required() -> None:
    form = Account.bind({"username": "   ", "password": ""})
    assert form.errors["username"] == ["This field is required."]
    assert form.errors["password"] == ["This field is required."]


def test_empty_optional_field_takes_none() -> None:
    form = Account.bind({"username": "ada", "password": "12345678", "age": "", "born": ""})
    assert form.is_valid
    assert form.data.age is None
    assert form.data.born is None


def test_text_is_stripped_but_passwords_are_not() -> None:
    form = Account.bind({"username": "  ada ", "password": " 12345678 "})
    assert form.data.username == "ada"
    assert form.data.password == " 12345678 "


def test_submitted_values_are_kept_for_redisplay() -> None:
    form = Account.bind({"username": "<ada>", "password": "x", "age": "old"})
    assert form.values["username"] == "<ada>"
    assert form.values["age"] == "old"
    html = str(form)
    assert 'value="&lt;ada&gt;"' in html
    assert 'value="old"' in html
    assert 'aria-invalid="true" aria-describedby="id_age-errors"' in html
    assert '<ul class="errors" id="id_age-errors">\n<li>Enter a whole number.</li>' in html


def test_password_is_never_sent_back() -> None:
    form = Account.bind({"username": "ada", "password": "hunter2-secret"})
    assert "password" not in form.values
    assert "hunter2-secret" not in str(form)


def test_unchecked_checkbox_is_false() -> None:
    form = Account.bind({"username": "ada", "password": "12345678"})
    assert form.data.newsletter is False
    assert "checked" not in str(form.newsletter.widget)


def test_checked_checkbox_is_true_and_stays_checked() -> None:
    form = Account.bind({"username": "a b", "password": "12345678", "newsletter": "on"})
    assert form.values["newsletter"] is True
    assert 'value="true" checked>' in str(form.newsletter.widget)
    valid = Account.bind({"username": "ada", "password": "12345678", "newsletter": "true"})
    assert valid.data.newsletter is True


def test_multiple_choice_reads_repeated_keys_and_keeps_every_selection() -> None:
    data = FormData(
        [("username", "a b"), ("password", "12345678"), ("colours", "red"), ("colours", "green")]
    )
    form = Account.bind(data)
    assert form.values["colours"] == ["red", "green"]
    html = str(form.colours.widget)
    assert '<option value="red" selected>' in html
    assert '<option value="green" selected>' in html
    assert '<option value="blue">' in html
    picked = [("colours", "red"), ("colours", "green")]
    ok = Account.bind(FormData([("username", "ada"), ("password", "12345678"), *picked]))
    assert ok.data.colours == [Colour.RED, Colour.GREEN]


def test_a_plain_dict_may_hold_lists_for_repeated_keys() -> None:
    form = Account.bind({"username": "ada", "password": "12345678", "colours": ["blue"]})
    assert form.data.colours == [Colour.BLUE]


def test_an_unknown_choice_is_rejected() -> None:
    form = Account.bind({"username": "ada", "password": "12345678", "colours": ["pink"]})
    assert form.errors == {"colours": ["Select a valid choice."]}


def test_choices_on_a_plain_str_validate() -> None:
    class Order(Form):
        size: Annotated[str, Choices({"s": "Small", "m": "Medium"})]
        kind: Literal["tea", "coffee"] = "tea"

    assert Order.bind({"size": "m"}).data.size == "m"
    form = Order.bind({"size": "xl", "kind": "beer"})
    assert form.errors == {"size": ["Select a valid choice."], "kind": ["Select a valid choice."]}


def test_model_validator_errors_are_non_field_errors() -> None:
    class Change(Form):
        new: str
        again: str

        @model_validator(mode="after")
        def same(self) -> Change:
            if self.new != self.again:
                raise ValueError("The two passwords differ")
            return self

    form = Change.bind({"new": "a", "again": "b"})
    assert form.errors == {}
    assert form.non_field_errors == ["The two passwords differ."]
    assert '<ul class="errors" id="form-errors">' in str(form)


def test_add_error_after_validation_invalidates_the_form() -> None:
    form = Account.bind({"username": "ada", "password": "12345678"})
    valid_before = form.is_valid
    form.add_error("username", "That name is taken.")
    assert valid_before
    assert not form.is_valid
    assert form.username.errors == ["That name is taken."]
    with pytest.raises(KeyError, match="no field 'nope'"):
        form.add_error("nope", "x")


def test_data_of_an_invalid_form_raises() -> None:
    form = Account.bind({})
    with pytest.raises(ValueError, match="Account is not valid"):
        _ = form.data


def test_unbound_form_is_not_valid() -> None:
    form = Account.empty()
    assert not form.is_bound
    assert not form.is_valid
    assert form.errors == {}


def test_aliases_name_the_inputs() -> None:
    class Search(BaseModel):
        query: str = Field(alias="q")

    form = bind(Search, {"q": "trivium"})
    assert form.data.query == "trivium"
    assert 'name="q" id="id_q"' in str(form)
    assert bind(Search, {}).errors == {"query": ["This field is required."]}


def test_fields_iterate_in_declaration_order() -> None:
    names = [field.name for field in Account.empty()]
    assert names == ["username", "password", "age", "newsletter", "colours", "born"]


def test_missing_field_attribute_is_an_attribute_error() -> None:
    form = Account.empty()
    with pytest.raises(AttributeError):
        _ = form.nope
    with pytest.raises(KeyError):
        form["nope"]
