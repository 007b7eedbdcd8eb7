"""Jinja2 templates, flash messages and HTML error pages.

```python
from trivium import App, Request
from trivium.responses import HTMLResponse, RedirectResponse
from trivium.templating import Templates, flash, render

app = App()
templates = Templates("templates")  # the app's directory; batteries' packages come after
templates.init_app(app, error_pages=True)  # browsers get errors/404.html, APIs get JSON


@app.get("/", name="home")
async def home(request: Request) -> HTMLResponse:
    return await render(request, "home.html", {"items": ["a", "b"]})


@app.get("/items")
async def items(request: Request) -> HTMLResponse:  # an htmx partial: one block only
    return await render(request, "home.html", {"items": ["a", "b"]}, block="items")


@app.post("/done")
async def done(request: Request) -> RedirectResponse:
    flash(request, "Saved.", "success")  # needs trivium.sessions.SessionMiddleware
    return RedirectResponse(request.url_for("home"), 303)
```

Templates see `request`, `csp_nonce`, and can call `url_for`, `static_url`,
`csrf_token`, `csrf_input` and `get_flashed_messages`. Needs the `templates` extra
(Jinja2).
"""

from __future__ import annotations

from trivium.templating._errors import DEFAULT_ERROR_STATUSES
from trivium.templating._errors import install_error_pages
from trivium.templating._errors import prefers_html
from trivium.templating._flash import FLASH_LEVELS
from trivium.templating._flash import flash
from trivium.templating._flash import get_flashed_messages
from trivium.templating._templates import AUTOESCAPE_EXTENSIONS
from trivium.templating._templates import TemplateResponse
from trivium.templating._templates import Templates
from trivium.templating._templates import render

__all__ = [
    "AUTOESCAPE_EXTENSIONS",
    "DEFAULT_ERROR_STATUSES",
    "FLASH_LEVELS",
    "TemplateResponse",
    "Templates",
    "flash",
    "get_flashed_messages",
    "install_error_pages",
    "prefers_html",
    "render",
]
