"""`fastapi.testclient` on trivium: trivium's test client."""

from __future__ import annotations

from trivium.testing import TestClient

__all__ = ["TestClient"]
