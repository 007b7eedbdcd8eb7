"""`fastapi.testclient`: the test client."""

from __future__ import annotations

from trivium.testing import TestClient

__all__ = [
    "TestClient",
]
