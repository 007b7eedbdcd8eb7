"""Module-level model functions for the process-pool tests (a spawned pool imports them)."""

from __future__ import annotations

import os
from typing import Any


def load() -> dict[str, Any]:
    return {"factor": 3, "pid": os.getpid()}


def scale(model: dict[str, Any], values: list[int]) -> list[int]:
    return [value * model["factor"] for value in values]


def where(model: dict[str, Any]) -> int:
    return int(model["pid"])


def die(model: dict[str, Any]) -> None:
    """What the OOM killer does to a pool process mid-call."""
    os._exit(1)


def broken_load() -> None:
    """A model whose file is missing."""
    raise FileNotFoundError("model.joblib")
