"""What `--reload` watches: Python files, templates and settings files, nothing else.

A development server that restarts on any file written under the project restarts when
a test tool writes its cache or the app writes its SQLite journal. Trivium watches only
the files that change what the app does, like Django and uvicorn: `*.py`, templates
(`*.html`, `*.jinja*`, `*.j2`), settings (`*.toml`, `*.env`, `.env*`); `--reload-include`
adds patterns and `--reload-exclude` takes some away.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

__all__ = ["RELOAD_EXCLUDE", "RELOAD_INCLUDE", "reload_filter", "watched"]

RELOAD_INCLUDE = ("*.py", "*.html", "*.jinja", "*.jinja2", "*.j2", "*.toml", "*.env", ".env*")
"""Name patterns of the files whose change restarts a development server."""

RELOAD_EXCLUDE = ("*.db", "*.db-*", "*.sqlite3", "*.sqlite3-*", ".*_cache/*", "*/__pycache__/*")
"""Patterns never watched, even when an include matches."""


def watched(path: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Return whether a change to `path` restarts the server."""
    name = PurePath(path).name
    posix = PurePath(path).as_posix()
    if any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(posix, p) for p in exclude):
        return False
    return any(fnmatch.fnmatch(name, pattern) for pattern in include)


def reload_filter(include: Sequence[str], exclude: Sequence[str]) -> type[Any]:
    """Return a watchfiles filter class (Granian instantiates it) watching only `include`."""
    from watchfiles import DefaultFilter

    patterns = (*RELOAD_INCLUDE, *include)
    skipped = (*RELOAD_EXCLUDE, *exclude)

    def __call__(self: Any, change: Any, path: str) -> bool:  # noqa: N807 - the filter's call
        return bool(DefaultFilter.__call__(self, change, path)) and watched(path, patterns, skipped)

    return type("TriviumReloadFilter", (DefaultFilter,), {"__call__": __call__})
