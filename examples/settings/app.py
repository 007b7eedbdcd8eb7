"""Settings read from the environment, `.env` files and secrets; an app factory that takes them."""

from __future__ import annotations

from typing import Annotated

from trivium import App
from trivium import Depends
from trivium.conf import Settings as BaseSettings
from trivium.conf import get_settings
from trivium.db import Database


class Settings(BaseSettings):
    """The project's settings: trivium's fields plus its own."""

    page_size: int = 20
    """Read from TRIVIUM_PAGE_SIZE (environment, .env, .env.<env>, secrets dir)."""


CurrentSettings = Annotated[Settings, Depends(get_settings)]


def create_app(settings: Settings | None = None) -> App:
    """Build the app for `settings` (default: read from the environment)."""
    settings = settings or Settings()
    db = Database.from_settings(settings)
    app = App(debug=settings.debug, plugins=[settings, db])

    @app.get("/about")
    async def about(settings: CurrentSettings) -> dict[str, object]:
        return {"env": settings.env, "page_size": settings.page_size}

    return app
