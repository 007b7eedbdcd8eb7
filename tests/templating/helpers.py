"""Helpers shared by the templating tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from trivium.middleware import Middleware
from trivium.sessions import SessionMiddleware

WriteTemplates = Callable[..., Path]
"""The `write_templates` fixture: `write_templates({name: source}, folder=...) -> Path`."""


def session_middleware() -> Middleware:
    """Return a session middleware (in-memory store) for flash and CSRF tests."""
    return Middleware(SessionMiddleware, secret_key="templating-tests-" + "k" * 40)
