"""A page saved untouched binds the values it was drawn with.

Each test draws a form, reads what a browser would submit for it unchanged (the values
the HTML carries), binds that back, and compares with what was drawn.
"""

from __future__ import annotations

import datetime
import enum
import re
from html.parser import HTMLParser
from typing import Annotated
from typing import Literal

import pytest
from pydantic import AwareDatetime
from pydantic import BaseModel

from trivium import App
from trivium.forms import BoundForm
from trivium.forms import Choices
from trivium.forms import Form
from trivium.forms import bind
from trivium.forms import empty
from trivium.http import FormData
from trivium.responses import HTMLResponse
from trivium.testing import TestClient

PLUS_FIVE = datetime.timezone(datetime.timedelta(hours=5))


class _Browser(HTMLParser):
    """Read the `(name, value)` pairs a browser submits for a form left as drawn."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._select: tuple[str, bool] | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        name = found.get("name")
        if tag == "input" and name:
            kind = found.get("type", "text")
            if kind not in ("checkbox", "radio") or "checked" in found:
                self.pairs.append((name, found.get("value", "")))
        elif tag == "select" and name:
            self._select, self._options = (name, "multiple" in found), []
        elif tag == "option" and self._select is not None:
            self._options.append((found.get("value", ""), "selected" in found))
        elif tag == "textarea" and name:
            self._textarea = name
            self.pairs.append((name, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.pairs[-1] = (self._textarea, self.pairs[-1][1] + data.lstrip("\n"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not multiple and not chosen and self._options:
                chosen = [self._options[0][0]]  # a single select sends its first option
            self.pairs.extend((name, value) for value in chosen)
            self._select = None


def submitted(html: str) -> FormData:
    """Return what a browser sends for the form in `html`, untouched."""
    browser = _Browser()
    browser.feed(html)
    return FormData(browser.pairs)


def posted(html: str) -> dict[str, list[str]]:
    """Return `submitted(html)` as the `data` of a test client's request."""
    data: dict[str, list[str]] = {}
    for name, value in submitted(html).multi_items():
        data.setdefault(name, []).append(str(value))
    return data


def tag(html: str, name: str) -> str:
    found = re.search(rf'<(input|select)[^>]* name="{name}"[^>]*>', html)
    assert found is not None, html
    return found.group(0)


# Date-times


class Meeting(Form):
    title: str
    at: datetime.datetime


class Alarm(Form):
    ring: datetime.time


class Booking(Form):
    at: AwareDatetime


def test_an_aware_datetime_saved_untouched_keeps_its_instant_offset_and_microseconds() -> None:
    stored = datetime.datetime(2024, 1, 1, 10, 0, 30, 500000, tzinfo=PLUS_FIVE)
    form = Meeting.bind(submitted(str(Meeting.empty({"title": "Standup", "at": stored}))))
    assert form.data.at == stored
    assert form.data.at.utcoffset() == datetime.timedelta(hours=5)
    assert form.data.at.microsecond == 500000


def test_an_aware_datetime_is_shown_in_utc_with_a_step_keeping_its_milliseconds() -> None:
    stored = datetime.datetime(2024, 1, 1, 10, 0, 30, 500000, tzinfo=PLUS_FIVE)
    html = str(Meeting.empty({"at": stored}))
    assert tag(html, "at") == (
        '<input type="datetime-local" name="at" id="id_at" required step="0.001"'
        ' value="2024-01-01T05:00:30.500">'
    )
    assert tag(html, "_initial_at") == (
        '<input type="hidden" name="_initial_at" value="2024-01-01T10:00:30.500000+05:00">'
    )


def test_the_text_a_browser_normalises_still_binds_the_exact_value() -> None:
    stored = datetime.datetime(2024, 1, 1, 10, 0, 30, 500000, tzinfo=PLUS_FIVE)
    data = {"title": "x", "at": "2024-01-01T05:00:30.5", "_initial_at": stored.isoformat()}
    assert Meeting.bind(data).data.at.utcoffset() == datetime.timedelta(hours=5)


def test_an_edited_value_of_an_aware_datetime_is_read_as_utc() -> None:
    stored = datetime.datetime(2024, 1, 1, 10, 0, tzinfo=PLUS_FIVE)
    data = submitted(str(Meeting.empty({"title": "x", "at": stored})))
    edited = {**data, "at": "2024-01-01T06:15"}
    assert Meeting.bind(edited).data.at == datetime.datetime(2024, 1, 1, 6, 15, tzinfo=datetime.UTC)


def test_a_naive_datetime_round_trips_naive_with_its_seconds() -> None:
    stored = datetime.datetime(2024, 1, 1, 10, 0, 30)  # noqa: DTZ001 - a naive value
    html = str(Meeting.empty({"title": "x", "at": stored}))
    assert 'step="1" value="2024-01-01T10:00:30"' in tag(html, "at")
    assert "_initial_at" not in html
    at = Meeting.bind(submitted(html)).data.at
    assert at == stored
    assert at.tzinfo is None


def test_a_datetime_to_the_minute_keeps_the_default_step() -> None:
    stored = datetime.datetime(2024, 5, 1, 9, 30)  # noqa: DTZ001 - a naive value
    html = tag(str(Meeting.empty({"at": stored})), "at")
    assert "step" not in html
    assert 'value="2024-05-01T09:30"' in html


def test_sub_millisecond_digits_of_a_naive_datetime_travel_in_a_hidden_input() -> None:
    stored = datetime.datetime(2024, 1, 1, 10, 0, 30, 123456)  # noqa: DTZ001 - naive
    html = str(Meeting.empty({"title": "x", "at": stored}))
    assert 'value="2024-01-01T10:00:30.123"' in tag(html, "at")
    at = Meeting.bind(submitted(html)).data.at
    assert at == stored
    assert at.tzinfo is None


def test_an_edited_naive_datetime_stays_naive() -> None:
    stored = datetime.datetime(2024, 1, 1, 10, 0, 30, 123456)  # noqa: DTZ001 - naive
    data = submitted(str(Meeting.empty({"title": "x", "at": stored})))
    at = Meeting.bind({**data, "at": "2024-01-02T08:00"}).data.at
    assert at == datetime.datetime(2024, 1, 2, 8, 0)  # noqa: DTZ001 - naive


def test_a_garbled_hidden_initial_is_ignored() -> None:
    data = {"title": "x", "at": "2024-01-01T05:00", "_initial_at": "yesterday"}
    assert Meeting.bind(data).data.at == datetime.datetime(2024, 1, 1, 5, 0)  # noqa: DTZ001


def test_an_aware_datetime_type_reads_a_typed_value_as_utc() -> None:
    html = str(Booking.empty())
    assert 'type="datetime-local"' in tag(html, "at")
    form = Booking.bind({"at": "2024-03-01T12:00"})
    assert form.data.at == datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)


def test_a_sent_offset_is_kept_and_nonsense_is_an_error() -> None:
    sent = Booking.bind({"at": "2024-03-01T12:00+02:00"}).data.at
    assert sent.utcoffset() == datetime.timedelta(hours=2)
    assert Booking.bind({"at": "soon"}).errors == {"at": ["Enter a valid date and time."]}


def test_an_aware_datetime_type_round_trips() -> None:
    stored = datetime.datetime(2024, 3, 1, 12, 0, 0, 250, tzinfo=PLUS_FIVE)
    assert Booking.bind(submitted(str(Booking.empty({"at": stored})))).data.at == stored


def test_a_redisplayed_form_keeps_the_exact_initial_value() -> None:
    stored = datetime.datetime(2024, 1, 1, 10, 0, 30, 123456, tzinfo=PLUS_FIVE)
    first = submitted(str(Meeting.empty({"title": "x", "at": stored})))
    invalid = Meeting.bind({**first, "title": ""})
    assert invalid.errors == {"title": ["This field is required."]}
    again = Meeting.bind({**submitted(str(invalid)), "title": "Fixed"})
    assert again.data.at == stored
    assert again.data.at.utcoffset() == datetime.timedelta(hours=5)


@pytest.mark.parametrize(
    ("stored", "shown", "step"),
    [
        (datetime.time(7, 45), "07:45", None),
        (datetime.time(7, 45, 10), "07:45:10", "1"),
        (datetime.time(7, 45, 10, 250000), "07:45:10.250", "0.001"),
        (datetime.time(7, 45, 10, 123456), "07:45:10.123", "0.001"),
    ],
)
def test_a_time_round_trips_with_its_seconds_and_microseconds(
    stored: datetime.time, shown: str, step: str | None
) -> None:
    html = str(Alarm.empty({"ring": stored}))
    drawn = tag(html, "ring")
    assert f'value="{shown}"' in drawn
    assert (f'step="{step}"' in drawn) if step else ("step" not in drawn)
    assert Alarm.bind(submitted(html)).data.ring == stored


def test_an_aware_time_is_shown_in_utc_and_round_trips() -> None:
    stored = datetime.time(10, 0, tzinfo=PLUS_FIVE)
    html = str(Alarm.empty({"ring": stored}))
    assert 'value="05:00"' in tag(html, "ring")
    ring = Alarm.bind(submitted(html)).data.ring
    assert ring == stored
    assert ring.utcoffset() == datetime.timedelta(hours=5)


def edit_app(stored: datetime.datetime) -> App:
    app = App()

    @app.get("/meeting")
    async def edit() -> HTMLResponse:
        return HTMLResponse(Meeting.empty({"title": "Standup", "at": stored}).render("/meeting"))

    @app.post("/meeting")
    async def save(form: BoundForm[Meeting]) -> dict[str, object]:
        if not form.is_valid:
            return {"errors": form.errors}
        return {"at": form.data.at.isoformat()}

    return app


@pytest.mark.parametrize(
    "stored",
    [
        datetime.datetime(2024, 1, 1, 10, 0, 30, 500000, tzinfo=PLUS_FIVE),
        datetime.datetime(2024, 1, 1, 10, 0, 30, 123456),  # noqa: DTZ001 - naive
    ],
    ids=["aware", "naive"],
)
def test_an_edit_page_posted_untouched_saves_the_stored_datetime(
    stored: datetime.datetime,
) -> None:
    client = TestClient(edit_app(stored))
    page = client.get("/meeting")
    response = client.post("/meeting", data=posted(page.text))
    assert response.json() == {"at": stored.isoformat()}


# Choices


class Colour(enum.Enum):
    RED = 1
    BLUE = 2


class Level(Form):
    level: Literal[1, 2, 3] = 1
    colour: Colour = Colour.RED
    agree: Literal[True] = True
    levels: list[Literal[1, 2, 3]] = []
    colours: set[Colour] = set()


def test_non_string_choices_saved_untouched_bind_their_values() -> None:
    initial = {"level": 2, "colour": Colour.BLUE, "levels": [1, 3], "colours": {Colour.BLUE}}
    html = str(Level.empty(initial))
    assert '<option value="2" selected>2</option>' in html
    assert '<option value="2" selected>Blue</option>' in html
    form = Level.bind(submitted(html))
    assert form.errors == {}
    assert form.data == Level(level=2, colour=Colour.BLUE, levels=[1, 3], colours={Colour.BLUE})


def test_an_int_literal_binds_from_the_text_of_its_option() -> None:
    assert Level.bind({"level": "3"}).data.level == 3


def test_an_int_valued_enum_binds_from_the_text_of_its_option() -> None:
    assert Level.bind({"colour": "2"}).data.colour is Colour.BLUE


def test_a_bool_literal_binds_from_the_text_of_its_option() -> None:
    assert 'value="True"' in str(Level.empty().agree.widget)
    assert Level.bind({"agree": "True"}).data.agree is True


def test_several_selections_bind_their_values() -> None:
    data = FormData([("levels", "1"), ("levels", "2"), ("colours", "1"), ("colours", "2")])
    form = Level.bind(data)
    assert form.data.levels == [1, 2]
    assert form.data.colours == {Colour.RED, Colour.BLUE}


@pytest.mark.parametrize(
    "data",
    [
        {"level": "4"},
        {"level": "one"},
        {"colour": "3"},
        {"colour": "RED"},
        {"agree": "False"},
        {"levels": ["1", "9"]},
        {"colours": ["2", "blue"]},
    ],
)
def test_a_text_that_is_not_a_choice_is_rejected(data: dict[str, object]) -> None:
    (name,) = data
    assert Level.bind(data).errors == {name: ["Select a valid choice."]}


def test_a_rejected_form_is_drawn_again_with_the_selections_made() -> None:
    form = Level.bind(FormData([("level", "3"), ("colour", "2"), ("levels", "9")]))
    assert form.errors == {"levels": ["Select a valid choice."]}
    html = str(form)
    assert '<option value="3" selected>3</option>' in html
    assert '<option value="2" selected>Blue</option>' in html
    again = Level.bind(submitted(html)).data
    assert (again.level, again.colour, again.levels) == (3, Colour.BLUE, [])


def test_choices_relabelling_enum_members_bind_the_members() -> None:
    class Paint(Form):
        colour: Annotated[Colour, Choices({Colour.RED: "Crimson", Colour.BLUE: "Navy"})]
        shade: Annotated[Colour, Choices({2: "Azure"})] = Colour.BLUE

    html = str(Paint.empty({"colour": Colour.BLUE}))
    assert '<option value="2" selected>Navy</option>' in html
    assert Paint.bind(submitted(html)).data == Paint(colour=Colour.BLUE, shade=Colour.BLUE)
    assert Paint.bind({"colour": "1", "shade": "1"}).errors == {"shade": ["Select a valid choice."]}


def test_a_plain_model_binds_non_string_choices() -> None:
    class Rating(BaseModel):
        stars: Literal[1, 2, 3, 4, 5]

    html = str(empty(Rating, {"stars": 4}))
    assert bind(Rating, submitted(html)).data.stars == 4


def level_app() -> App:
    app = App()

    @app.get("/level")
    async def edit() -> HTMLResponse:
        initial = {"level": 3, "colour": Colour.BLUE, "levels": [2], "colours": {Colour.RED}}
        return HTMLResponse(Level.empty(initial).render("/level"))

    @app.post("/level")
    async def save(form: BoundForm[Level]) -> dict[str, object]:
        if not form.is_valid:
            return {"errors": form.errors}
        data = form.data
        return {
            "level": data.level,
            "colour": data.colour.name,
            "levels": data.levels,
            "colours": sorted(c.name for c in data.colours),
        }

    return app


def test_a_select_page_posted_untouched_saves_the_choices() -> None:
    client = TestClient(level_app())
    response = client.post("/level", data=posted(client.get("/level").text))
    assert response.json() == {"level": 3, "colour": "BLUE", "levels": [2], "colours": ["RED"]}


def test_a_posted_text_that_is_no_choice_is_an_error_for_the_page() -> None:
    response = TestClient(level_app()).post("/level", data={"level": "7", "colour": "2"})
    assert response.json() == {"errors": {"level": ["Select a valid choice."]}}
