"""`fastapi.openapi.utils`: build an OpenAPI document from routes."""

from __future__ import annotations

from trivium.openapi import get_openapi

__all__ = [
    "get_openapi",
]
