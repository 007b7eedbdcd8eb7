"""`fastapi.templating`: Jinja2 templates."""

from __future__ import annotations

from trivium.compat._templating import Jinja2Templates

__all__ = [
    "Jinja2Templates",
]
