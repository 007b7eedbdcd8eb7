from __future__ import annotations

import datetime
import enum
import re
from pathlib import Path
from typing import Annotated
from typing import Literal
from typing import Optional

import pytest
from pydantic import BaseModel
from pydantic import EmailStr
from pydantic import Field
from pydantic import SecretStr

from trivium.errors import ConfigurationError
from trivium.forms import CheckboxSelectMultiple
from trivium.forms import Choices
from trivium.forms import Form
from trivium.forms import FormRenderer
from trivium.forms import PasswordInput
from trivium.forms import RadioSelect
from trivium.forms import Textarea
from trivium.forms import Widget
from trivium.forms import empty
from trivium.http import UploadFile

pytestmark = pytest.mark.drives_no_app


class Colour(enum.Enum):
    RED = "red"
    DARK_BLUE = "blue"


class Everything(Form):
    name: Annotated[str, Field(max_length=20, min_length=2)]
    age: Annotated[int, Field(ge=18, lt=130)] = 30
    ratio: float | None = None
    subscribe: bool = False
    born: datetime.date | None = None
    meeting: datetime.datetime | None = None
    email: EmailStr | None = None
    bio: Annotated[str, Textarea(rows=4)] = ""
    password: Annotated[str, PasswordInput()] = ""
    secret: SecretStr | None = None
    colour: Colour = Colour.RED
    size: Literal["s", "m", "l"] | None = None
    colours: list[Colour] = []


def tag(html: str, name: str) -> str:
    found = re.search(rf'<(input|select|textarea)[^>]* name="{name}"[^>]*>', html)
    assert found is not None, html
    return found.group(0)


def test_text_input_carries_length_constraints_and_required() -> None:
    html = str(Everything.empty())
    assert tag(html, "name") == (
        '<input type="text" name="name" id="id_name" minlength="2" maxlength="20" required>'
    )


def test_int_is_a_number_with_min_max_step_and_default_value() -> None:
    assert tag(str(Everything.empty()), "age") == (
        '<input type="number" name="age" id="id_age" step="1" min="18" max="129" value="30">'
    )


def test_float_is_a_number_with_any_step() -> None:
    assert 'type="number" name="ratio" id="id_ratio" step="any">' in str(Everything.empty())


def test_each_annotation_picks_its_input_type() -> None:
    html = str(Everything.empty())
    assert 'type="checkbox" name="subscribe"' in tag(html, "subscribe")
    assert 'type="date"' in tag(html, "born")
    assert 'type="datetime-local"' in tag(html, "meeting")
    assert 'type="email"' in tag(html, "email")
    assert 'type="password"' in tag(html, "password")
    assert 'type="password"' in tag(html, "secret")
    assert tag(html, "bio").startswith('<textarea name="bio" id="id_bio" rows="4">')
    assert tag(html, "colour") == '<select name="colour" id="id_colour">'
    assert tag(html, "colours") == '<select name="colours" id="id_colours" multiple>'


def test_enum_select_lists_labels_and_selects_the_default() -> None:
    html = str(Everything.empty()["colour"].widget)
    assert '<option value="red" selected>Red</option>' in html
    assert '<option value="blue">Dark blue</option>' in html


def test_optional_select_offers_an_empty_choice() -> None:
    html = str(Everything.empty().size.widget)
    assert '<option value="">---------</option>' in html
    assert '<option value="m">m</option>' in html


def test_labels_point_at_their_inputs() -> None:
    form = Everything.empty()
    assert str(form.name.label) == '<label for="id_name">Name</label>'
    assert form.name.label_text == "Name"


def test_title_and_description_become_label_and_help_text() -> None:
    class Signup(Form):
        handle: Annotated[str, Field(title="Your handle", description="Letters only")]

    html = str(Signup.empty())
    assert '<label for="id_handle">Your handle</label>' in html
    assert '<small class="help" id="id_handle-help">Letters only</small>' in html
    assert 'aria-describedby="id_handle-help"' in tag(html, "handle")


def test_unbound_form_shows_initial_values_over_defaults() -> None:
    form = Everything.empty(
        {
            "name": "Ada",
            "born": datetime.date(1815, 12, 10),
            "meeting": datetime.datetime(2024, 5, 1, 9, 30),  # noqa: DTZ001 - a local time
            "colours": [Colour.RED, Colour.DARK_BLUE],
            "subscribe": True,
        }
    )
    html = str(form)
    assert 'value="Ada"' in tag(html, "name")
    assert 'value="1815-12-10"' in tag(html, "born")
    assert 'value="2024-05-01T09:30"' in tag(html, "meeting")
    assert "checked" in tag(html, "subscribe")
    assert html.count("selected") == 3  # colour's default and both colours


def test_unbound_form_reads_an_object_for_edit_pages() -> None:
    class Row:
        name = "Grace"
        age = 85

    form = Everything.empty(Row())
    assert form.values["name"] == "Grace"
    assert form.values["age"] == "85"
    assert form.values["colour"] == "red"


def test_values_are_html_escaped() -> None:
    form = Everything.empty({"name": '"><script>x</script>', "bio": "</textarea><b>"})
    html = str(form)
    assert "<script>" not in html
    assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
    assert "&lt;/textarea&gt;&lt;b&gt;</textarea>" in html


def test_labels_and_choices_are_escaped() -> None:
    class Evil(Form):
        pick: Annotated[str, Choices({"<a>": "<b>bold</b>"}), Field(title="<i>x</i>")]

    html = str(Evil.empty())
    assert "<b>" not in html
    assert "<i>" not in html
    assert '<option value="&lt;a&gt;">&lt;b&gt;bold&lt;/b&gt;</option>' in html


def test_render_wraps_the_fields_in_a_form_element() -> None:
    html = str(Everything.empty().render("/people", submit="Save"))
    assert html.startswith('<form method="post" action="/people">')
    assert html.endswith('<button type="submit">Save</button>\n</form>')


def test_a_file_field_makes_the_form_multipart() -> None:
    class Avatar(Form):
        picture: UploadFile
        extra: list[UploadFile] = []

    form = Avatar.empty()
    assert form.multipart
    assert form.enctype == "multipart/form-data"
    html = str(form.render())
    assert 'enctype="multipart/form-data"' in html
    assert '<input type="file" name="picture" id="id_picture" required>' in html
    assert '<input type="file" name="extra" id="id_extra" multiple>' in html


def test_choices_can_be_drawn_as_radios_and_checkboxes() -> None:
    class Poll(Form):
        answer: Annotated[str, Choices(["yes", "no"]), RadioSelect()] = "no"
        tags: Annotated[set[str], Choices(["a", "b"]), CheckboxSelectMultiple()] = set()

    html = str(Poll.empty({"tags": ["b"]}))
    assert '<input type="radio" name="answer" value="no" checked>' in html
    assert '<input type="checkbox" name="tags" value="b" checked>' in html
    assert '<input type="checkbox" name="tags" value="a">' in html


def test_widget_by_name_in_json_schema_extra() -> None:
    class Note(Form):
        text: str = Field(json_schema_extra={"widget": "textarea"})

    assert "<textarea" in str(Note.empty())


def test_unknown_widget_name_is_a_configuration_error_at_class_definition() -> None:
    with pytest.raises(ConfigurationError, match="unknown widget 'wysiwyg'") as info:

        class Note(Form):
            text: str = Field(json_schema_extra={"widget": "wysiwyg"})

    assert info.value.code == "form-widget-unknown"


def test_a_list_without_choices_is_a_configuration_error() -> None:
    class Tags(BaseModel):
        tags: list[str]

    with pytest.raises(ConfigurationError, match="without choices") as info:
        empty(Tags)
    assert info.value.code == "form-field-unsupported"


class Structured(BaseModel):
    a: int


@pytest.mark.parametrize("annotation", [dict[str, int], dict, Structured, Structured | None])
def test_a_mapping_or_model_field_is_a_configuration_error_at_class_definition(
    annotation: object,
) -> None:
    with pytest.raises(ConfigurationError, match="one HTML input cannot carry") as info:
        type("Nested", (Form,), {"__annotations__": {"x": annotation}})
    assert info.value.code == "form-field-unsupported"


class OptionalOutside(Form):
    age: Annotated[int, Field(ge=0, le=150)] | None = None
    code: Optional[Annotated[str, Field(max_length=5)]] = None  # noqa: UP045 - the spelling tested


def test_constraints_inside_an_optional_annotated_become_html_attributes() -> None:
    html = str(OptionalOutside.empty())
    assert (
        tag(html, "age")
        == '<input type="number" name="age" id="id_age" step="1" min="0" max="150">'
    )
    assert tag(html, "code") == '<input type="text" name="code" id="id_code" maxlength="5">'


def test_custom_widget_with_its_own_template(tmp_path: Path) -> None:
    (tmp_path / "stars.html").write_text(
        '<span class="stars" data-name="{{ field.html_name }}">{{ value }}</span>'
    )

    class Stars(Widget):
        template_name = "stars.html"

    class Review(Form):
        form_renderer = FormRenderer([tmp_path])
        rating: Annotated[int, Stars()] = 3

    assert '<span class="stars" data-name="rating">3</span>' in str(Review.empty())


def test_app_templates_override_the_packaged_ones(tmp_path: Path) -> None:
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "label.html").write_text(
        '<label class="big" for="{{ field.id }}">{{ field.label_text }}</label>'
    )

    class Person(BaseModel):
        name: str

    form = empty(Person, renderer=FormRenderer([tmp_path]))
    assert '<label class="big" for="id_name">Name</label>' in str(form)


def test_renderer_shares_an_async_app_environment(tmp_path: Path) -> None:
    import jinja2

    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "errors.html").write_text("{{ shout(errors|join) }}")
    app_env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(tmp_path), enable_async=True, autoescape=True
    )
    app_env.globals["shout"] = str.upper

    class Person(BaseModel):
        name: str

    from trivium.forms import bind

    form = bind(Person, {}, renderer=FormRenderer(environment=app_env))
    assert "THIS FIELD IS REQUIRED." in str(form)
    assert "html_attrs" not in app_env.filters


def test_a_choice_field_carries_no_number_or_length_attributes() -> None:
    class Order(Form):
        size: Annotated[int, Choices({1: "One", 2: "Two"}), Field(ge=1, le=2)]
        code: Annotated[str, Choices(["ab", "cd"]), Field(max_length=2), RadioSelect()] = "ab"
        count: Annotated[int, Field(ge=1)] = 1

    html = str(Order.empty())
    select = re.search(r"<select[^>]*>", html)
    assert select is not None
    assert select.group(0) == '<select name="size" id="id_size" required>'
    radios = re.findall(r'<input type="radio"[^>]*>', html)
    assert len(radios) == 2
    assert not any("maxlength" in radio for radio in radios)
    assert re.search(r'<input type="number" name="count"[^>]*step="1"[^>]*min="1"', html)
    bound = Order.bind({"size": "3", "code": "ab", "count": "1"})
    assert not bound.is_valid
