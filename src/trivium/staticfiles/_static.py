"""`StaticFiles`: serve a directory (or packages' `static/` folders) under a mount.

The request path is never handed to the file system as is. It is split into segments;
a segment that is `..`, holds a backslash, or contains a NUL byte ends the lookup (404,
or 400 for NUL), empty and `.` segments are dropped, and the remaining segments are
joined under each root. The joined path is then resolved (`realpath`) and must still lie
under the resolved root — unless `follow_symlink=True`, where only the lexical path is
checked, so symlinks may point outside on purpose. Files are served by `FileResponse`,
which answers conditional and range requests.

Content-hashed URLs: `url_for("app.css")` appends `?v=<12 hex digits of SHA-256>`. The
digest is computed once per file and kept until the file's modification time or size
changes. A request carrying the current `v` is answered with
`Cache-Control: public, max-age=31536000, immutable`: the URL changes whenever the
content does, so browsers never need to ask again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import quote

import anyio.to_thread

from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.http._datastructures import parse_query
from trivium.http._file import FileResponse
from trivium.http._paths import quote_path
from trivium.http._paths import under_root
from trivium.http._request import HTTPConnection
from trivium.http._response import JSONResponse
from trivium.http._response import RedirectResponse
from trivium.http._response import Response
from trivium.middleware._edge import ANSWERED_BY_PARENT
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from trivium.app import App

__all__ = ["IMMUTABLE", "StaticFiles", "static_url"]

IMMUTABLE = "public, max-age=31536000, immutable"
"""`Cache-Control` of a request whose `v` matches the file's content hash."""
HASH_LENGTH = 12
"""Hex digits of the SHA-256 digest used as the version."""


class _BadPath(Exception):  # noqa: N818 - internal signal carrying a status
    def __init__(self, status: int) -> None:
        self.status = status


def _segments(path: str) -> list[str]:
    """Split a request path into safe segments, or raise `_BadPath`."""
    if "\0" in path:
        raise _BadPath(400)
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." or "\\" in part or (os.sep != "/" and os.sep in part):
            raise _BadPath(404)
        parts.append(part)
    return parts


def _package_dir(spec: str | tuple[str, str]) -> Path:
    package, folder = (spec, "static") if isinstance(spec, str) else spec
    try:
        found = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise ConfigurationError(
            f"StaticFiles: package {package!r} cannot be found", "static-package-missing"
        )
    for location in found.submodule_search_locations or ():
        candidate = Path(location) / folder
        if candidate.is_dir():
            return candidate
    raise ConfigurationError(
        f"StaticFiles: package {package!r} has no {folder!r} directory "
        "(packages must be installed as regular directories, not zipped)",
        "static-package-missing",
    )


class StaticFiles:
    """An ASGI app serving files from a directory and/or packages' `static` folders.

    Mount it with a name to build URLs: `app.mount("/static", StaticFiles(directory="static"),
    name="static")`, then `static_url(request, "app.css")`.

    Args:
        directory: the directory to serve.
        packages: packages whose `static/` folder is served (searched after
            `directory`, in order); `("pkg", "assets")` names another folder.
        html: serve `index.html` for a directory and `404.html` for a missing file.
        check_dir: require `directory` to exist now rather than at the first request.
        follow_symlink: allow symlinks that point outside the directory.
        max_age: `Cache-Control: public, max-age=N` for requests without the current
            content hash; `None` sends `no-cache` (revalidate with the ETag each time).

    Raises:
        ConfigurationError: no source is given, the directory is missing
            (`static-directory-missing`) or a package has no static folder
            (`static-package-missing`).
    """

    def __init__(  # noqa: PLR0913 - the options Starlette users know, plus max_age
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        packages: Sequence[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
        max_age: int | None = None,
    ) -> None:
        roots: list[Path] = []
        if directory is not None:
            root = Path(directory)
            if check_dir and not root.is_dir():
                raise ConfigurationError(
                    f"StaticFiles: directory {os.fspath(directory)!r} does not exist; create "
                    "it or pass check_dir=False",
                    "static-directory-missing",
                )
            roots.append(root)
        roots.extend(_package_dir(spec) for spec in packages or ())
        if not roots:
            raise ConfigurationError(
                "StaticFiles needs a directory or packages to serve", "static-no-source"
            )
        if max_age is not None and max_age < 0:
            raise ConfigurationError(f"max_age must be >= 0, not {max_age}", "static-option")
        self.roots: list[Path] = [Path(os.path.realpath(r)) for r in roots]
        """The directories served, resolved, in search order."""
        self.html = html
        """Whether `index.html` and `404.html` are served."""
        self.follow_symlink = follow_symlink
        """Whether symlinks may point outside the roots."""
        self.cache_control = f"public, max-age={max_age}" if max_age is not None else "no-cache"
        """`Cache-Control` of responses without a matching version."""
        self._hashes: dict[str, tuple[int, int, str]] = {}

    # Lookup -----------------------------------------------------------------------------

    def _inside(self, root: Path, candidate: Path) -> Path | None:
        if self.follow_symlink:
            # The segments hold no '..', so the joined path is lexically inside the root.
            return candidate
        resolved = os.path.realpath(candidate)
        base = os.fspath(root)
        if resolved == base or resolved.startswith(base.rstrip(os.sep) + os.sep):
            # Keep the requested name: the content type is guessed from it.
            return candidate
        return None

    def _lookup(self, path: str) -> tuple[Path, os.stat_result] | None:
        # Raises _BadPath when the path tries to leave the roots or holds forbidden bytes.
        parts = _segments(path)
        for root in self.roots:
            candidate = self._inside(root, root.joinpath(*parts))
            if candidate is None:
                continue
            try:
                result = candidate.stat()
            except (OSError, ValueError):
                continue
            if stat.S_ISREG(result.st_mode) or stat.S_ISDIR(result.st_mode):
                return candidate, result
        return None

    def version(self, path: str) -> str | None:
        """Return the content hash of file `path`, or `None` if there is no such file."""
        try:
            found = self._lookup(path)
        except _BadPath:
            return None
        if found is None or not stat.S_ISREG(found[1].st_mode):
            return None
        return self._digest(found[0], found[1])

    def _digest(self, file: Path, result: os.stat_result) -> str:
        key = os.fspath(file)
        cached = self._hashes.get(key)
        if cached is not None and cached[:2] == (result.st_mtime_ns, result.st_size):
            return cached[2]
        digest = hashlib.sha256()
        with file.open("rb") as handle:
            while chunk := handle.read(256 * 1024):
                digest.update(chunk)
        value = digest.hexdigest()[:HASH_LENGTH]
        self._hashes[key] = (result.st_mtime_ns, result.st_size, value)
        return value

    def url_for(self, path: str) -> str:
        """Return `/path?v=<hash>`, the path under the mount with its content version.

        The version is left out when there is no such file.
        """
        clean = "/" + path.lstrip("/")
        version = self.version(path)
        quoted = quote(clean)
        return f"{quoted}?v={version}" if version else quoted

    # Serving ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request for a file under the mount."""
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1000})
            return
        try:
            response = await self.get_response(scope)
        except HTTPException as exc:
            if scope.get(ANSWERED_BY_PARENT) is self:
                raise  # mounted in an app: its exception handlers and error pages answer
            response = _error(exc)
        await response(scope, receive, send)

    async def get_response(self, scope: Scope) -> Response:
        """Return the response for the request described by `scope`.

        Raises:
            HTTPException: 404 for a missing file (unless `html=True` and there is a
                `404.html`), 405 (with `Allow`) for a method other than GET and HEAD,
                400 for a path holding a NUL byte.
        """
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405, "Method Not Allowed", {"allow": "GET, HEAD"})
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path:
            rest = under_root(path, root_path)
            if rest is not None:
                path = "" if path == root_path else rest  # `/static`: redirected to `/static/`
        query: bytes = scope.get("query_string", b"")
        version = _query_version(query)
        try:
            return await anyio.to_thread.run_sync(self._respond, path, version, root_path, query)
        except _BadPath as bad:
            detail = "Invalid path" if bad.status == 400 else "Not Found"
            raise HTTPException(bad.status, detail) from None

    def _respond(self, path: str, version: str | None, root_path: str, query: bytes) -> Response:
        found = self._lookup(path)
        if found is not None and stat.S_ISDIR(found[1].st_mode) and self.html:
            if not path.endswith("/"):
                # `path` is decoded: quote it again, or a directory named `q?x`, `h#x` or
                # `%41` would be sent to a query, a fragment or another name.
                location = quote_path(root_path + path + "/")
                if query:
                    location += "?" + query.decode("latin-1")
                return RedirectResponse(location, 308)
            found = self._lookup(path + "/index.html")
            if found is not None and not stat.S_ISREG(found[1].st_mode):
                found = None
        if found is None or not stat.S_ISREG(found[1].st_mode):
            return self._not_found()
        file, result = found
        cache = self.cache_control
        if version is not None and version == self._digest(file, result):
            cache = IMMUTABLE
        return FileResponse(file, headers={"cache-control": cache}, stat_result=result)

    def _not_found(self) -> Response:
        if self.html:
            found = self._lookup("404.html")
            if found is not None and stat.S_ISREG(found[1].st_mode):
                return FileResponse(
                    found[0],
                    status_code=404,
                    headers={"cache-control": "no-cache"},
                    stat_result=found[1],
                )
        raise HTTPException(404, "Not Found")


def _query_version(query: bytes) -> str | None:
    if b"v=" not in query:
        return None
    for key, value in parse_query(query.decode("latin-1")):
        if key == "v":
            return value
    return None


def _error(exc: HTTPException) -> Response:
    """The answer to `exc` when no app's handlers will (on its own, in another framework).

    A mounted app's error is answered by the app's exception handlers and HTML error
    pages, as Starlette's are (`ANSWERED_BY_PARENT`).
    """
    return JSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)


def _find_static(routes: Sequence[Any], name: str) -> StaticFiles | None:
    head, sep, rest = name.partition(":")
    for route in routes:
        if getattr(route, "name", None) != head or not hasattr(route, "app"):
            continue
        if sep:
            return _find_static(getattr(route.app, "routes", ()), rest)
        if isinstance(route.app, StaticFiles):
            return route.app
    return None


def static_url(request_or_app: HTTPConnection | App, path: str, name: str = "static") -> str:
    """Return the URL path of static file `path` with its content version: `/static/app.css?v=…`.

    `name` is the name the `StaticFiles` was mounted with (`"outer:static"` reaches into a
    mounted app). Given a request, the result includes the request's `root_path`. The
    version is left out when the file does not exist.

    Raises:
        NoMatchFound: no mount is called `name`.
    """
    if isinstance(request_or_app, HTTPConnection):
        app = request_or_app.app
        prefix: str = request_or_app.scope.get("root_path", "")
    else:
        app = request_or_app
        prefix = ""
    url = prefix + app.url_path_for(name, path=quote(path.lstrip("/")))
    static = _find_static(app.routes, name)
    version = static.version(path) if static is not None else None
    return f"{url}?v={version}" if version else url
