"""`multiple_of` with bounds draws a `min`/`max` the browser's steps agree with."""

from __future__ import annotations

import decimal
from typing import Annotated

import pytest
from pydantic import Field

from trivium.forms import Form

pytestmark = pytest.mark.drives_no_app


class Order(Form):
    packs: Annotated[int, Field(gt=0, multiple_of=5)] = 5
    boxes: Annotated[int, Field(ge=1, le=12, multiple_of=5)] = 5
    crates: Annotated[int, Field(ge=-7, lt=20, multiple_of=5)] = 0
    plain: Annotated[int, Field(gt=0, lt=10)] = 5
    halves: Annotated[float, Field(gt=0, multiple_of=0.5)] = 1.0
    tenths: Annotated[
        decimal.Decimal,
        Field(ge=decimal.Decimal("0.25"), le=2, multiple_of=decimal.Decimal("0.1")),
    ] = decimal.Decimal("1")
    ratio: Annotated[float, Field(ge=-3, le=3)] = 0.0


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("packs", 'step="5" min="5"'),
        ("boxes", 'step="5" min="5" max="10"'),
        ("crates", 'step="5" min="-5" max="15"'),
        ("plain", 'step="1" min="1" max="9"'),
        ("halves", 'step="0.5" min="0.5"'),
        ("tenths", 'step="0.1" min="0.3" max="2"'),
        ("ratio", 'step="any" min="-3" max="3"'),
    ],
)
def test_min_and_max_are_multiples_of_the_step(field: str, expected: str) -> None:
    assert expected in str(Order.empty()[field].widget)


def test_the_drawn_bounds_are_values_the_server_accepts() -> None:
    form = Order.bind({"packs": "5", "boxes": "10", "crates": "-5", "halves": "0.5"})
    assert form.is_valid, form.errors
    refused = Order.bind({"packs": "6", "boxes": "15"})
    assert set(refused.errors) == {"packs", "boxes"}
