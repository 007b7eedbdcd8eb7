"""`CSRFPolicy`: the CSRF rules, shared by the `CSRF` plugin and `CSRFMiddleware`.

The rules, in order, for an HTTP request:

1. A path under one of `exempt_paths` passes.
2. Safe methods (GET, HEAD, OPTIONS, TRACE) pass: they must not change anything.
3. A request authenticated from an `Authorization` header (API token, JWT) passes: a
   cross-site page cannot attach that header.
4. An `Origin` (or, over HTTPS without it, a `Referer`) naming another site than the
   request's own or a trusted origin is refused when the request is cookie-authenticated
   or is one a cross-site page can send without a CORS preflight (a form, `text/plain`
   or no body). Cross-origin JSON calls without the cookie are left to CORS.
5. A request that is not cookie-authenticated (an API call with a bearer token, a first
   login form) passes.
6. Otherwise it needs a valid token: in the header, or in the form field of a
   urlencoded or multipart body (which is replayed to the app afterwards).

"Cookie-authenticated" is what the session layer recorded (`Session.from_cookie`: the
request carried the session cookie, whatever its name), never a guess by cookie name.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from trivium.csrf._form import BodyTooLarge
from trivium.csrf._form import scan_form
from trivium.csrf._origin import OriginPolicy
from trivium.csrf._origin import normalize_origin
from trivium.csrf._token import CSRF_FIELD
from trivium.csrf._token import FIELD_NAME_KEY
from trivium.csrf._token import session_of
from trivium.csrf._token import verify_token
from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.http import app_path
from trivium.types import Receive
from trivium.types import Scope

__all__ = ["SAFE_METHODS", "CSRFPolicy", "Disconnected"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods that pass without checks."""
_URLENCODED = b"application/x-www-form-urlencoded"
_FORMS = (_URLENCODED, b"multipart/form-data")
# Bodies a cross-site page can POST without a CORS preflight ("simple requests").
_NO_PREFLIGHT = (*_FORMS, b"text/plain", b"")
# `request.auth.method` values of credentials sent in the Authorization header.
_HEADER_AUTH = ("token", "jwt")


class Disconnected(Exception):  # noqa: N818 - an outcome, not an error
    """The client went away while its form body was read."""


class CSRFPolicy:
    """The CSRF options and the check of one request (see the module docstring).

    Args:
        trusted_origins: other origins allowed to send unsafe requests
            (`"https://app.example.com"`, `"https://*.example.com"`).
        header_name: the request header carrying the token.
        field_name: the form field carrying the token.
        exempt_paths: path prefixes that skip every check (webhooks with their own
            signatures, say), within the app: without the `root_path`, as routes are
            written.
        max_body_size: most bytes of a form body read to find the field; more gives 413.

    Raises:
        ConfigurationError: an invalid trusted origin (`csrf-trusted-origin`) or option
            (`csrf-option`).
    """

    __slots__ = ("exempt", "field_name", "header", "max_body_size", "origins")

    def __init__(
        self,
        *,
        trusted_origins: Sequence[str] = (),
        header_name: str = "x-csrf-token",
        field_name: str = CSRF_FIELD,
        exempt_paths: Sequence[str] = (),
        max_body_size: int = 10 * 1024 * 1024,
    ) -> None:
        for label, value in (("header_name", header_name), ("field_name", field_name)):
            if not isinstance(value, str) or not value:
                raise ConfigurationError(f"{label} must be a non-empty string", "csrf-option")
        if isinstance(exempt_paths, str) or any(not p.startswith("/") for p in exempt_paths):
            raise ConfigurationError(
                f"exempt_paths must be a list of paths starting with '/', not {exempt_paths!r}",
                "csrf-option",
            )
        self.origins = OriginPolicy(trusted_origins)
        self.header = header_name.lower().encode("latin-1")
        self.field_name = field_name
        """The form field carrying the token."""
        self.exempt = tuple(exempt_paths)
        self.max_body_size = max_body_size
        """Most bytes of a form body read to find the token."""

    async def check(
        self, scope: Scope, receive: Receive, form: Callable[[], Awaitable[Any]] | None = None
    ) -> Receive:
        """Check one HTTP request; return the `receive` the app must read the body from.

        `form` (a request step passes `request.form`) parses a urlencoded body once for
        both the token and the handler, under the route's form limits; without it the
        body is scanned and replayed.

        Raises:
            HTTPException: 403 (origin or token refused) or 413 (form body too large).
            Disconnected: the client left while the form body was read.
            ConfigurationError: no session layer runs in front (`csrf-no-session`).
        """
        if self.passes_at_once(scope):
            return receive
        return await self.check_unsafe(scope, receive, form)

    def passes_at_once(self, scope: Scope) -> bool:
        """Whether a request needs no origin or token check (exempt, safe, header credentials).

        Also records the form field's name in the scope, for `csrf_input()` and forms.

        Raises:
            ConfigurationError: no session layer runs in front (`csrf-no-session`).
        """
        scope[FIELD_NAME_KEY] = self.field_name  # for csrf_input() and forms
        if self.exempt and app_path(scope).startswith(self.exempt):
            return True
        session_of(scope)
        return (
            scope["method"] in SAFE_METHODS
            or getattr(scope.get("auth"), "method", None) in _HEADER_AUTH
        )

    async def check_unsafe(
        self, scope: Scope, receive: Receive, form: Callable[[], Awaitable[Any]] | None = None
    ) -> Receive:
        """`check` for a request `passes_at_once` did not let through: origin and token."""
        session = session_of(scope)
        headers = _headers(scope, (b"origin", b"referer", b"content-type", self.header))
        # Foreign session objects that don't say count as cookie-authenticated (safe side).
        cookie_auth = bool(getattr(session, "from_cookie", True))
        content_type = headers.get(b"content-type", [b""])[0]
        media = content_type.split(b";")[0].strip().lower()
        if cookie_auth or media in _NO_PREFLIGHT:
            refusal = self._origin_refusal(scope, headers)
            if refusal is not None:
                raise HTTPException(403, refusal)
        if not cookie_auth:
            return receive
        token = headers[self.header][0] if self.header in headers else None
        if token is None and media in _FORMS:
            token, receive = await self._form_token(receive, content_type, media, form)
        if not token:
            raise HTTPException(403, "CSRF token missing")
        if not verify_token(session, token.decode("latin-1")):
            raise HTTPException(403, "CSRF token incorrect")
        return receive

    async def _form_token(
        self,
        receive: Receive,
        content_type: bytes,
        media: bytes,
        form: Callable[[], Awaitable[Any]] | None,
    ) -> tuple[bytes | None, Receive]:
        """Return the form's token and the `receive` the app reads the body from."""
        if form is not None and media == _URLENCODED:
            value = (await form()).get(self.field_name)
            return (value.encode() if isinstance(value, str) else None), receive
        try:
            scan = await scan_form(receive, content_type, self.field_name, self.max_body_size)
        except BodyTooLarge:
            raise HTTPException(413, f"Form body larger than {self.max_body_size} bytes") from None
        if scan.disconnected:
            raise Disconnected
        token = scan.token.encode("latin-1") if scan.token is not None else None
        return token, scan.replay()

    def _origin_refusal(self, scope: Scope, headers: dict[bytes, list[bytes]]) -> str | None:
        raw = headers.get(b"origin")
        if raw is None and scope.get("scheme") == "https":
            raw = headers.get(b"referer")
        if raw is None:
            return None
        text = raw[0].decode("latin-1")
        origin = normalize_origin(text)
        if origin is not None and self.origins.trusts(origin, scope):
            return None
        # A Referer names a whole URL: quote only its origin (no path or query).
        return f"Origin {(origin or text)[:100]!r} is not trusted"


def _headers(scope: Scope, names: tuple[bytes, ...]) -> dict[bytes, list[bytes]]:
    found: dict[bytes, list[bytes]] = {}
    raw: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in raw:
        if key in names:
            found.setdefault(key, []).append(value)
    return found
