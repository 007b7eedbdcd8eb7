"""`fastapi.concurrency`: run blocking code in worker threads."""

from __future__ import annotations

from trivium.concurrency import contextmanager_in_threadpool
from trivium.concurrency import iterate_in_threadpool
from trivium.concurrency import run_in_threadpool

__all__ = [
    "contextmanager_in_threadpool",
    "iterate_in_threadpool",
    "run_in_threadpool",
]
