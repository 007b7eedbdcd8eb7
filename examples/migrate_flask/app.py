"""The Flask app mounted inside trivium, partly migrated.

- `/` is trivium's now, rendering the Flask app's Jinja template as it is;
- `/api/bookmarks` is new, a typed trivium route;
- `/bookmarks.json` runs in shadow mode: Flask answers, trivium's version runs too and
  any difference is recorded, so the team can compare before switching it over;
- everything else (`POST /add`, ...) is still Flask's, through the fallback mount.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pydantic import BaseModel

from examples.migrate_flask.legacy import HERE
from examples.migrate_flask.legacy import create_app
from trivium import App
from trivium import Request
from trivium.interop import Legacy
from trivium.interop import ShadowReport
from trivium.responses import HTMLResponse
from trivium.templating import Templates
from trivium.templating import render


class Bookmark(BaseModel):
    id: int
    title: str
    url: str


# --8<-- [start:app]
def make_app(database: Path) -> tuple[App, list[ShadowReport]]:
    legacy = Legacy(create_app(database), workers=4)
    app = App(plugins=[legacy])
    Templates(HERE / "templates").init_app(app)  # the Flask app's templates, unchanged
    differences: list[ShadowReport] = []

    def bookmarks() -> list[Bookmark]:
        with sqlite3.connect(database) as connection:
            rows = connection.execute("SELECT id, title, url FROM bookmark ORDER BY id")
            return [Bookmark(id=i, title=t, url=u) for i, t, u in rows]

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return await render(request, "bookmarks.html", {"bookmarks": bookmarks()})

    @app.get("/api/bookmarks")
    def api_bookmarks() -> list[Bookmark]:
        return bookmarks()

    shadow = legacy.router(shadow=True, on_difference=differences.append)

    @shadow.get("/bookmarks.json")
    def as_json() -> list[Bookmark]:
        return bookmarks()

    app.include_router(shadow)
    return app, differences


# --8<-- [end:app]
