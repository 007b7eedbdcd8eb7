"""`fastapi.applications` on trivium: `FastAPI`, trivium's `App` with FastAPI's defaults.

Where trivium's own defaults differ from FastAPI's, `FastAPI` takes FastAPI's, so a ported
app behaves as it did; `trivium.App` keeps trivium's. The differences that remain on
purpose are listed in docs/compat.md.
"""

from __future__ import annotations

from typing import Any

from trivium.app import App

__all__ = ["FastAPI"]


class FastAPI(App):
    """Trivium's `App` with FastAPI's defaults (the OpenAPI title is "FastAPI")."""

    def __init__(self, *, title: str = "FastAPI", **options: Any) -> None:
        super().__init__(title=title, **options)
