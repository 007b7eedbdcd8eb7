"""A block rendered alone sees the template's top-level imports, sets and macros."""

from __future__ import annotations

import pytest
from tests.templating.helpers import WriteTemplates

from trivium import App
from trivium import Request
from trivium.responses import HTMLResponse
from trivium.templating import TemplateResponse
from trivium.templating import Templates
from trivium.templating import render
from trivium.testing import TestClient

LAYOUT = (
    '{% import "macros.html" as lm %}{% set site = "Site" %}'
    "<html>{% block nav %}<nav>{{ lm.badge(site) }}</nav>{% endblock %}"
    "{% block content %}{% endblock %}</html>"
)
TEMPLATES = {
    "macros.html": '{% macro badge(x) %}<span class="badge">{{ x }}</span>{% endmacro %}',
    "layout.html": LAYOUT,
    "from.html": (
        '{% extends "layout.html" %}\n{% from "macros.html" import badge %}\n'
        '{% set title = "Hello" %}\n'
        "{% block content %}<main>{{ badge(n) }} {{ title }} {{ site }}</main>{% endblock %}"
    ),
    "import.html": (
        '{% extends "layout.html" %}{% import "macros.html" as m %}'
        "{% block content %}<main>{{ m.badge(n) }}</main>{% endblock %}"
    ),
    "macro.html": (
        '{% extends "layout.html" %}{% if n > 1 %}{% set size = "big" %}{% else %}'
        '{% set size = "small" %}ignored{% endif %}{% macro own(x) %}<i>{{ x }}</i>{% endmacro %}'
        "{% block content %}{{ own(size) }}{% endblock %}"
    ),
}


def make_app(templates: Templates) -> App:
    app = App(openapi_url=None)
    templates.init_app(app)

    @app.get("/async/{name}")
    async def page(request: Request, name: str, block: str | None = None) -> HTMLResponse:
        return await render(request, name, {"n": 3}, block=block)

    @app.get("/sync/{name}")
    def sync(request: Request, name: str, block: str | None = None) -> TemplateResponse:
        return templates.response(request, name, {"n": 3}, block=block)

    return app


@pytest.mark.parametrize("kind", ["async", "sync"])
@pytest.mark.parametrize(
    ("name", "block", "expected"),
    [
        ("from.html", "content", '<main><span class="badge">3</span> Hello Site</main>'),
        ("import.html", "content", '<main><span class="badge">3</span></main>'),
        ("macro.html", "content", "<i>big</i>"),
        ("from.html", "nav", '<nav><span class="badge">Site</span></nav>'),
    ],
)
def test_a_block_alone_sees_top_level_names(
    write_templates: WriteTemplates, kind: str, name: str, block: str, expected: str
) -> None:
    client = TestClient(make_app(Templates(write_templates(TEMPLATES))))
    response = client.get(f"/{kind}/{name}", params={"block": block})
    assert response.status_code == 200
    assert response.text == expected
    page = client.get(f"/{kind}/{name}")
    assert page.status_code == 200
    assert expected in page.text


def test_a_sync_environment_renders_a_block_with_top_level_names(
    write_templates: WriteTemplates,
) -> None:
    templates = Templates(write_templates(TEMPLATES), enable_async=False)
    response = TestClient(make_app(templates)).get("/async/from.html", params={"block": "content"})
    assert response.text == '<main><span class="badge">3</span> Hello Site</main>'


def test_an_unknown_block_names_the_inherited_ones(write_templates: WriteTemplates) -> None:
    client = TestClient(make_app(Templates(write_templates(TEMPLATES))))
    with pytest.raises(
        LookupError, match=r"'import.html' has no block 'nope' \(its blocks: content, nav\)"
    ):
        client.get("/async/import.html", params={"block": "nope"})
