"""Date-times whose UTC time falls outside years 1 to 9999: shown, bound, never a 500."""

from __future__ import annotations

import datetime

import pytest
from pydantic import AwareDatetime

from trivium import App
from trivium.forms import BoundForm
from trivium.forms import Form
from trivium.responses import HTMLResponse
from trivium.responses import JSONResponse
from trivium.testing import TestClient

MINUS_FIVE = datetime.timezone(datetime.timedelta(hours=-5))
LATE = datetime.datetime(9999, 12, 31, 23, 0, tzinfo=MINUS_FIVE)


class Event(Form):
    title: str
    when: datetime.datetime | None = None
    aware: AwareDatetime | None = None


def make_app() -> App:
    app = App()

    @app.post("/events")
    async def create(form: BoundForm[Event]) -> JSONResponse:
        if form.is_valid:
            return JSONResponse({"when": str(form.data.when), "aware": str(form.data.aware)})
        return JSONResponse({"errors": form.errors}, status_code=422)

    @app.get("/events/late")
    async def edit() -> HTMLResponse:
        return HTMLResponse(str(Event.empty({"title": "x", "when": LATE})))

    return app


@pytest.mark.parametrize("field", ["when", "aware"])
@pytest.mark.parametrize("forged", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+05:00"])
def test_a_forged_initial_beyond_the_utc_range_is_no_500(field: str, forged: str) -> None:
    client = TestClient(make_app(), raise_server_exceptions=False)
    data = {"title": "party", field: "2024-05-01T10:00", f"_initial_{field}": forged}
    response = client.post("/events", data=data)
    assert response.status_code == 200
    assert response.json()[field].startswith("2024-05-01 10:00")


def test_a_value_beyond_the_utc_range_is_drawn_at_its_own_offset() -> None:
    client = TestClient(make_app(), raise_server_exceptions=False)
    response = client.get("/events/late")
    assert response.status_code == 200
    assert 'name="when"' in response.text
    assert 'value="9999-12-31T23:00"' in response.text
    assert 'value="9999-12-31T23:00:00-05:00"' in response.text  # the hidden initial


def test_a_value_beyond_the_utc_range_saved_untouched_keeps_its_offset() -> None:
    client = TestClient(make_app(), raise_server_exceptions=False)
    data = {"title": "x", "when": "9999-12-31T23:00", "_initial_when": LATE.isoformat()}
    response = client.post("/events", data=data)
    assert response.status_code == 200
    assert response.json()["when"] == "9999-12-31 23:00:00-05:00"
