"""`fastapi.utils`: `generate_unique_id`, FastAPI's default operationId function."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["generate_unique_id"]


def generate_unique_id(route: Any) -> str:
    """Return `name` + path + first method with non-word characters as `_` (FastAPI's ids)."""
    operation_id = re.sub(r"\W", "_", f"{route.name}{route.path_format}")
    return f"{operation_id}_{sorted(route.methods)[0].lower()}"
