"""`starlette.staticfiles`: serve a directory of files, redirecting directories as Starlette.

With `html=True`, a directory URL without its trailing slash (`/site`) is redirected
the way Starlette does it: `307` to the absolute URL with the query string kept
(`http://testserver/site/?x=1`), and only when the directory has an `index.html`; one
without answers 404 as a missing file does. trivium's own `StaticFiles` answers `308`
with a relative `Location` for any directory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trivium.http import URL
from trivium.responses import RedirectResponse
from trivium.staticfiles import StaticFiles as _StaticFiles

if TYPE_CHECKING:
    from trivium.http import Response
    from trivium.types import Scope


class StaticFiles(_StaticFiles):
    """Serve files from a directory and/or packages' `static` folders, as Starlette's does."""

    async def get_response(self, scope: Scope) -> Response:
        """Return the response for `scope`, with Starlette's redirect for a directory URL."""
        response = await super().get_response(scope)
        # trivium's StaticFiles answers 308 only to a directory without its trailing slash.
        if response.status_code != 308 or not self.html:
            return response
        url = URL.from_scope(scope)
        index = await super().get_response({**scope, "path": scope["path"] + "/"})
        if index.status_code != 200:
            return index
        return RedirectResponse(url.replace(path=url.path + "/"), 307)


__all__ = [
    "StaticFiles",
]
