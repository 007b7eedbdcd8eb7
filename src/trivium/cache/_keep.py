"""Keeping a cached route's response once its final headers are known.

`ResponseStep.after` (order 900) sees the handler's response before any other step
adds its per-request headers, which is what an entry must hold. But whether the
response may be kept at all is known only once every step has run: the session step
(100) adds the `Set-Cookie` of a session the handler wrote (`request.session[...]`, a
CSRF token), and a page holding that visitor's session data or token must never be
another visitor's. So `ResponseStep.after` prepares the entry (`Pending`) and
`KeepStep`, whose `after` runs last of all, writes it, unless the final response sets
a cookie, the request's session was written (or came with its cookie), or the page
holds the request's CSP nonce; then it answers `Cache-Control: private` instead of
`public`, as Django's cache middleware refuses such responses.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from typing import Any

from trivium.middleware import csp_nonce
from trivium.plugins import RequestStep

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from trivium.cache._responses import ResponseStep
    from trivium.http import Request
    from trivium.http import Response

__all__ = ["PENDING_KEY", "KeepStep", "Pending", "lifetime"]

PENDING_KEY = "trivium.cache.pending"
"""Scope key: the entry `ResponseStep.after` prepared, for `KeepStep` to write."""


class Pending:
    """An entry to write once the response's final headers are known (see the module)."""

    __slots__ = ("added", "data", "key", "locked", "names", "response", "step", "ttl")

    def __init__(  # noqa: PLR0913 - the entry, and where it goes
        self,
        step: ResponseStep,
        key: str,
        locked: bool,
        response: Response,
        data: bytes | None,
        names: list[str],
        ttl: float,
        added: bool,
    ) -> None:
        self.step = step
        self.key = key
        self.locked = locked
        """Whether this request holds the key's lock (released once the entry is written)."""
        self.response = response
        """The response the entry was made of: another one (an error) is not kept."""
        self.data = data
        """The entry (`None`: the store is down, keep nothing)."""
        self.names = names
        self.ttl = ttl
        self.added = added
        """Whether `ResponseStep` gave the response its `Cache-Control` (`public, ...`)."""


class KeepStep(RequestStep):
    """Write the entry `ResponseStep` prepared, once every other step has run."""

    __slots__ = ()
    order = -1000  # the first `before` (it has none) and the last `after`

    def after(self, request: Request, response: Response | None) -> Awaitable[None] | None:
        """Keep the prepared entry, unless the answer sets a cookie or used the client's session.

        A plain function (see `RequestStep`): a hit, or a response not to keep, has no
        entry waiting, and is done at once.
        """
        pending: Pending | None = request.scope.pop(PENDING_KEY, None)
        if pending is None:
            return None
        return self._keep(request, response, pending)

    async def _keep(self, request: Request, response: Response | None, pending: Pending) -> None:
        step = pending.step
        try:
            if response is not pending.response:
                return  # a later step failed: its error response went out instead
            if (
                _sets_cookie(response)
                or _session_used(request.scope, step.rule.private)
                or _holds_nonce(request.scope, response)
            ):
                if pending.added:
                    _make_private(response, step.cache_control)
                return
            if pending.data is not None:
                await step.write(pending.key, pending.data, pending.names, pending.ttl, request)
        finally:
            if pending.locked:
                await step.core.unlock(pending.key)


def _sets_cookie(response: Response) -> bool:
    return any(name == b"set-cookie" for name, _ in response.raw_headers)


def _session_used(scope: Any, private: bool) -> bool:
    """Whether the request's session (`trivium.sessions`) makes the page the client's own.

    It does when the handler wrote it (it is saved and its cookie sent: a session
    middleware sends it as the response starts, after every step), or, on a shared
    rule, when the request came with its cookie (a session middleware's cookie is not
    one the cache knows as credentials before the handler runs). A private rule's
    entries are the user's own already.
    """
    session = scope.get("session")
    return bool(
        getattr(session, "modified", False)
        or getattr(session, "previous_ids", None)
        or (not private and getattr(session, "from_cookie", False))
    )


def _holds_nonce(scope: Any, response: Response) -> bool:
    """Whether the page holds this request's CSP nonce (`SecurityHeadersMiddleware`).

    A kept copy would carry it to every later visitor, whose header names a new nonce:
    their browsers would block the page's inline scripts and styles.
    """
    nonce = csp_nonce(scope)
    body = getattr(response, "body", None)
    if not nonce or not isinstance(body, bytes):
        return False
    return nonce.encode() in body


def _make_private(response: Response, added: bytes) -> None:
    raw = response.raw_headers
    for index in range(len(raw) - 1, -1, -1):
        if raw[index] == (b"cache-control", added):
            raw[index] = (b"cache-control", b"private")
            return


def lifetime(response: Response, ttl: float) -> float | None:
    """Return how long the server may keep `response`: `ttl`, or less if its headers say so.

    The response's own `Cache-Control`: `s-maxage` (else `max-age`) shortens the entry's
    life; `no-cache`, `no-store` or a lifetime of 0 (or one that is not a number) keep
    nothing (`None`).
    """
    seconds = ttl
    for name, value in response.raw_headers:
        if name != b"cache-control":
            continue
        directives: dict[str, str] = {}
        for item in value.decode("latin-1").split(","):
            directive, _, argument = item.strip().partition("=")
            directives[directive.strip().lower()] = argument.strip().strip('"')
        if "no-cache" in directives or "no-store" in directives:
            return None
        given = directives.get("s-maxage", directives.get("max-age"))
        if given is None:
            continue
        try:
            limit = float(given)
        except ValueError:
            return None
        if not math.isfinite(limit) or limit <= 0:
            return None
        seconds = min(seconds, limit)
    return seconds
