"""`fastapi.applications` on trivium: `FastAPI`, trivium's `App` with FastAPI's defaults.

Where trivium's own defaults differ from FastAPI's, `FastAPI` takes FastAPI's, so a ported
app behaves as it did; `trivium.App` keeps trivium's. The differences that remain on
purpose are listed in docs/compat.md.
"""

from __future__ import annotations

from typing import Any

from trivium.app import App
from trivium.openapi import OpenAPIConfig
from trivium.openapi import configure

__all__ = ["FastAPI"]


class FastAPI(App):
    """Trivium's `App` with FastAPI's defaults.

    - The OpenAPI title is "FastAPI".
    - A trailing-slash redirect answers 307 with an absolute URL (trivium: 308, relative).
    - Operations document only the responses FastAPI documents (no 400/413/415 entries;
      the server still answers them).
    """

    def __init__(self, *, title: str = "FastAPI", **options: Any) -> None:
        super().__init__(title=title, **options)
        self.slash_redirect = (307, True)
        configure(self, OpenAPIConfig(document_body_errors=False))
