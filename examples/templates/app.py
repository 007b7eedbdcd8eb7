"""A small notes site: server-rendered pages, flash messages, an htmx partial, error pages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from trivium import App
from trivium import Form
from trivium import HTTPException
from trivium import Request
from trivium.csrf import CSRF
from trivium.middleware import ContentSecurityPolicy
from trivium.middleware import Middleware
from trivium.middleware import SecurityHeadersMiddleware
from trivium.responses import HTMLResponse
from trivium.responses import RedirectResponse
from trivium.sessions import Sessions
from trivium.staticfiles import StaticFiles
from trivium.templating import TemplateResponse
from trivium.templating import Templates
from trivium.templating import flash
from trivium.templating import render

HERE = Path(__file__).parent
SECRET_KEY = os.environ.get("NOTES_SECRET_KEY", "dev-only-secret-key-change-me-please-0123456789")

# --8<-- [start:setup]
app = App(
    openapi_url=None,
    plugins=[Sessions(secret_key=SECRET_KEY), CSRF()],  # flashes and CSRF live here
    middleware=[
        Middleware(
            SecurityHeadersMiddleware,
            csp=ContentSecurityPolicy({"default-src": "self", "script-src": "self"}),
        ),
    ],
)
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
templates = Templates(HERE / "templates")
templates.init_app(app, error_pages=True)  # browsers get errors/*.html, APIs get JSON
# --8<-- [end:setup]

NOTES: dict[int, str] = {1: "Buy milk", 2: "Call <Ada>"}


# --8<-- [start:pages]
@app.get("/", name="home")
async def home(request: Request) -> HTMLResponse:
    return await render(request, "notes.html", {"notes": NOTES})


@app.post("/notes", name="add_note")
async def add_note(request: Request, text: Annotated[str, Form()]) -> RedirectResponse:
    text = text.strip()
    if not text:
        flash(request, "A note needs some text.", "error")
    else:
        NOTES[max(NOTES, default=0) + 1] = text
        flash(request, f"Added “{text}”.", "success")
    return RedirectResponse(request.url_for("home"), 303)  # post/redirect/get


# --8<-- [end:pages]


# --8<-- [start:partial]
@app.get("/notes/list", name="note_list")
async def note_list(request: Request) -> HTMLResponse:
    # The same template, only its `{% block note_list %}`: what htmx swaps in.
    return await render(request, "notes.html", {"notes": NOTES}, block="note_list")


# --8<-- [end:partial]


# --8<-- [start:sync]
@app.get("/notes/{note_id}", name="note")
def note(request: Request, note_id: int) -> TemplateResponse:
    # A plain `def` handler runs in a thread; its template is rendered as it is sent.
    if note_id not in NOTES:
        raise HTTPException(404, f"There is no note {note_id}.")
    return templates.response(request, "note.html", {"note_id": note_id, "text": NOTES[note_id]})


# --8<-- [end:sync]


@app.get("/admin")
async def admin() -> None:
    raise HTTPException(403)


@app.get("/api/notes")
async def api_notes() -> dict[int, str]:
    return NOTES
