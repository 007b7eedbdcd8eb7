"""FastAPI's and Starlette's public module paths on trivium, so porting is an import rename.

`trivium.compat.fastapi` mirrors `fastapi`, `trivium.compat.starlette` mirrors `starlette`;
`trivium port fastapi PATH` rewrites a project's imports to them. See docs/compat.md.
"""

from __future__ import annotations
