"""`fastapi.openapi`: document helpers (`utils`, `docs`)."""

from __future__ import annotations

__all__ = []
