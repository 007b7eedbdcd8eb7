"""A field named like a `BoundForm` attribute is drawn with `form["name"]`."""

from __future__ import annotations

import pytest

from trivium.forms import Form
from trivium.forms import FormRenderer

pytestmark = pytest.mark.drives_no_app


class Shadowing(Form):
    data: str = ""
    errors: str = ""
    model: str = ""


def test_form_item_draws_a_field_named_like_an_attribute() -> None:
    form = Shadowing.bind({"data": "d", "errors": "e", "model": "m"})
    assert form.is_valid
    assert form.data.data == "d"
    assert 'name="data"' in str(form["data"])
    assert 'value="e"' in str(form["errors"].widget)
    page = FormRenderer().environment.from_string('{{ form["model"] }}')
    assert 'name="model"' in page.render(form=form)
