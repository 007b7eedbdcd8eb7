"""Port an application to trivium: `trivium port fastapi PATH` and the rewriter behind it.

`port_source` rewrites one module's FastAPI and Starlette imports to `trivium.compat`
(keeping formatting and comments) and reports what it could not convert; the
`trivium port fastapi` command runs it over a project. Needs libcst: `pip install
'trivium[port]'`. See docs/migrate-from-fastapi.md.
"""

from __future__ import annotations

try:
    import libcst as _libcst  # noqa: F401 - fail early with the extra to install
except ImportError:  # pragma: no cover - exercised only without the extra
    from trivium.errors import MissingDependencyError

    raise MissingDependencyError("libcst", "port") from None

from trivium.port._rewrite import PortResult
from trivium.port._rewrite import Problem
from trivium.port._rewrite import port_source

__all__ = ["PortResult", "Problem", "port_source"]
