"""Percent-encoding of decoded paths, and the path a client asked for.

Servers hand the ASGI `path` over decoded; these helpers quote it again the way clients
send it, find what follows a `root_path` as whole segments, and rebuild the requested
path (with its prefix) for URLs and redirects.
"""

from __future__ import annotations

import re
from urllib.parse import quote
from urllib.parse import unquote

from trivium.types import Scope

__all__ = ["PATH_SAFE", "PCHAR", "app_path", "quote_path", "scope_path", "under_root"]

PCHAR = "!$&'()*+,;=:@"
"""What RFC 3986 allows in a path segment besides letters, digits and `-._~` (which
`quote` never escapes)."""
PATH_SAFE = "/" + PCHAR
"""What `quote_path` keeps of a decoded path: segment characters and `/`."""


def quote_path(path: str) -> str:
    """Percent-encode a decoded path as clients send it: all but `pchar`s and `/`."""
    return quote(path, safe=PATH_SAFE, errors="replace")


_ENCODED_PATH = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")
"""A path as it travels in a URL: only segment characters and percent-escapes."""


def under_root(path: str, root: str) -> str | None:
    """Return what follows `root` in `path`, when `path` starts with it as whole segments.

    `/a/about` is under `/a` (giving `/about`), `/about` is not: servers differ on whether
    the ASGI `path` includes the `root_path`, so a plain prefix test would cut `/about`
    to `bout`.
    """
    root = root.rstrip("/")
    if not path.startswith(root):
        return None
    rest = path[len(root) :]
    if not rest:
        return "/"
    return rest if rest[0] == "/" else None


def app_path(scope: Scope) -> str:
    """Return the request's path within the app: without the `root_path` a proxy mounts it at.

    ASGI servers put the `root_path` in `path` too (Granian's `--root-path` leaves it
    out); the router matches what follows it, as whole segments, and so should any rule
    written on app paths (`/hooks` under the root `/h` stays `/hooks`).
    """
    path: str = scope["path"]
    root = scope.get("root_path")
    if not root:
        return path
    inner = under_root(path, root)
    return path if inner is None else inner


def scope_path(scope: Scope) -> str:
    """Return the path the client asked for, percent-encoded, with the `root_path` prefix.

    `scope["path"]` is decoded (`/files/a%3Fb` is `/files/a?b`), so it is never pasted
    into a URL as is: the server's `raw_path` is used when it is a well-formed path that
    decodes to the same one, else the decoded path is quoted. The ASGI spec has `path`
    include `root_path` (uvicorn, the test client, mounts); Granian leaves it out, and
    so does a server that knows nothing of the prefix an `App(root_path=...)` names: the
    prefix is added then.
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "").rstrip("/")
    inner = path
    if root:
        if path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
            inner = path[len(root) :]
        else:
            path = root + path
    raw: bytes | None = scope.get("raw_path")
    if raw:
        text = raw.decode("latin-1")
        if _ENCODED_PATH.fullmatch(text):
            decoded = unquote(text)
            if decoded == path:
                return text
            if root and decoded == inner:  # the server's raw path leaves the prefix out
                return quote_path(root) + text
    return quote_path(path)
