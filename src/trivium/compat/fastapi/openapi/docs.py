"""`fastapi.openapi.docs`: render Swagger UI and ReDoc pages."""

from __future__ import annotations

from trivium.openapi import get_redoc_html
from trivium.openapi import get_swagger_ui_html
from trivium.openapi import get_swagger_ui_oauth2_redirect_html

__all__ = [
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
]
