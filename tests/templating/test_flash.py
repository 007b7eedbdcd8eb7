"""Flash messages: stored in the session, shown once, with levels."""

from __future__ import annotations

import pytest
from tests.templating.helpers import WriteTemplates
from tests.templating.helpers import session_middleware

from trivium import App
from trivium import Request
from trivium.errors import ConfigurationError
from trivium.responses import HTMLResponse
from trivium.responses import RedirectResponse
from trivium.templating import FLASH_LEVELS
from trivium.templating import Templates
from trivium.templating import flash
from trivium.templating import get_flashed_messages
from trivium.templating import render
from trivium.testing import TestClient

SHOW = """{% for level, message in get_flashed_messages(with_levels=true) -%}
<p class="{{ level }}">{{ message }}</p>
{%- endfor %}|again:{{ get_flashed_messages()|length }}"""


def make_client(write_templates: WriteTemplates) -> TestClient:
    app = App(middleware=[session_middleware()], openapi_url=None)
    Templates(write_templates({"show.html": SHOW})).init_app(app)

    @app.post("/save")
    async def save(request: Request) -> RedirectResponse:
        flash(request, "Saved <b>it</b>.", "success")
        flash(request, "Check the date.", "warning")
        flash(request, "Just so you know.")
        return RedirectResponse(request.url_for("show"), 303)

    @app.get("/show", name="show")
    async def show(request: Request) -> HTMLResponse:
        return await render(request, "show.html")

    @app.get("/api/messages")
    async def messages(request: Request, level: str | None = None) -> dict[str, object]:
        levels = [level] if level else []
        return {"messages": get_flashed_messages(request, with_levels=True, level_filter=levels)}

    @app.post("/bad-level")
    async def bad_level(request: Request) -> dict[str, str]:
        try:
            flash(request, "x", "fatal")
        except ValueError as exc:
            return {"error": str(exc)}
        return {"error": ""}

    return TestClient(app)


def test_flash_survives_a_redirect_and_shows_once(write_templates: WriteTemplates) -> None:
    client = make_client(write_templates)
    response = client.post("/save")
    assert response.status_code == 200
    assert response.url.path == "/show"
    assert response.text == (
        '<p class="success">Saved &lt;b&gt;it&lt;/b&gt;.</p>'
        '<p class="warning">Check the date.</p>'
        '<p class="info">Just so you know.</p>'
        "|again:3"
    )
    # Shown once: the next page has none left.
    assert client.get("/show").text == "|again:0"


def test_level_filter_returns_only_those_levels(write_templates: WriteTemplates) -> None:
    client = make_client(write_templates)
    client.post("/save", follow_redirects=False)
    assert client.get("/api/messages", params={"level": "warning"}).json() == {
        "messages": [["warning", "Check the date."]]
    }
    # Asking took every message out of the session, as in Flask.
    assert client.get("/api/messages").json() == {"messages": []}


def test_unknown_level_is_a_value_error(write_templates: WriteTemplates) -> None:
    response = make_client(write_templates).post("/bad-level")
    assert response.json()["error"].startswith("unknown flash level 'fatal'")
    assert FLASH_LEVELS == ("debug", "info", "success", "warning", "error")


def test_flash_without_a_session_names_the_middleware() -> None:
    app = App(openapi_url=None)

    @app.post("/save")
    async def save(request: Request) -> dict[str, str]:
        flash(request, "x")
        return {}

    with pytest.raises(ConfigurationError, match="session-not-installed"):
        TestClient(app).post("/save")


def test_garbage_in_the_session_is_ignored(write_templates: WriteTemplates) -> None:
    app = App(middleware=[session_middleware()], openapi_url=None)

    @app.post("/plant")
    async def plant(request: Request) -> dict[str, str]:
        request.session["_flashes"] = [["info", "kept"], ["nope", "x"], "junk", ["error", 3]]
        return {}

    @app.get("/read")
    async def read(request: Request) -> dict[str, list[str]]:
        return {"messages": get_flashed_messages(request)}

    client = TestClient(app)
    client.post("/plant")
    assert client.get("/read").json() == {"messages": ["kept"]}
