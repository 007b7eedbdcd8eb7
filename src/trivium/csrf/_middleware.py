"""`CSRFMiddleware`: refuse cross-site unsafe requests and unsigned cookie-authenticated ones.

The rules, in order, for an HTTP request:

1. A path under one of `exempt_paths` passes.
2. Safe methods (GET, HEAD, OPTIONS, TRACE) pass: they must not change anything.
3. A request the auth middleware authenticated from an `Authorization` header (API
   token, JWT) passes: a cross-site page cannot attach that header.
4. An `Origin` (or, over HTTPS without it, a `Referer`) naming another site than the
   request's own or a trusted origin is refused when the request carries the session
   cookie or is one a cross-site page can send without a CORS preflight (a form,
   `text/plain` or no body). Cross-origin JSON calls without the cookie are left to CORS.
5. A request without the session cookie is not cookie-authenticated (an API call with a
   bearer token, a first login form) and passes.
6. Otherwise it needs a valid token: in the header, or in the form field of a
   urlencoded or multipart body (which is replayed to the app afterwards).
"""

from __future__ import annotations

from collections.abc import Sequence

from trivium.csrf._form import BodyTooLarge
from trivium.csrf._form import scan_form
from trivium.csrf._origin import OriginPolicy
from trivium.csrf._origin import normalize_origin
from trivium.csrf._token import CSRF_FIELD
from trivium.csrf._token import FIELD_NAME_KEY
from trivium.csrf._token import session_of
from trivium.csrf._token import verify_token
from trivium.errors import ConfigurationError
from trivium.responses import JSONResponse
from trivium.types import ASGIApp
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["SAFE_METHODS", "CSRFMiddleware"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods that pass without checks."""
_FORMS = (b"application/x-www-form-urlencoded", b"multipart/form-data")
# Bodies a cross-site page can POST without a CORS preflight ("simple requests").
_NO_PREFLIGHT = (*_FORMS, b"text/plain", b"")
# `request.auth.method` values of credentials sent in the Authorization header.
_HEADER_AUTH = ("token", "jwt")


class CSRFMiddleware:
    """Protect cookie-authenticated unsafe requests with a token and every one with an origin check.

    Add it so that it runs inside `SessionMiddleware` (add it first: the last added
    middleware is the outermost):

    ```python
    app.add_middleware(CSRFMiddleware, trusted_origins=["https://admin.example.com"])
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key)
    ```

    Args:
        app: the ASGI app to wrap.
        trusted_origins: other origins allowed to send unsafe requests
            (`"https://app.example.com"`, `"https://*.example.com"`).
        header_name: the request header carrying the token.
        field_name: the form field carrying the token.
        exempt_paths: path prefixes that skip every check (webhooks with their own
            signatures, say).
        session_cookie: the session cookie's name: its presence makes a request
            cookie-authenticated.
        max_body_size: most bytes of a form body read to find the field; more gives 413.

    Raises:
        ConfigurationError: an invalid trusted origin (`csrf-trusted-origin`) or option
            (`csrf-option`).
    """

    __slots__ = ("app", "cookie", "exempt", "field_name", "header", "max_body_size", "origins")

    def __init__(  # noqa: PLR0913 - independent options, all keyword-only
        self,
        app: ASGIApp,
        *,
        trusted_origins: Sequence[str] = (),
        header_name: str = "x-csrf-token",
        field_name: str = CSRF_FIELD,
        exempt_paths: Sequence[str] = (),
        session_cookie: str = "session",
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
        self.app = app
        self.origins = OriginPolicy(trusted_origins)
        self.header = header_name.lower().encode("latin-1")
        self.field_name = field_name
        self.exempt = tuple(exempt_paths)
        self.cookie = session_cookie.encode("latin-1")
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request; pass it on or answer 403."""
        if scope["type"] == "http":
            scope[FIELD_NAME_KEY] = self.field_name  # for csrf_input() and forms
        if scope["type"] != "http" or (self.exempt and scope["path"].startswith(self.exempt)):
            await self.app(scope, receive, send)
            return
        session = session_of(scope)
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        if getattr(scope.get("auth"), "method", None) in _HEADER_AUTH:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope, (b"origin", b"referer", b"cookie", b"content-type", self.header))
        has_cookie = self._has_cookie(headers.get(b"cookie", []))
        content_type = headers.get(b"content-type", [b""])[0]
        simple = content_type.split(b";")[0].strip().lower() in _NO_PREFLIGHT
        refusal = self._origin_refusal(scope, headers) if has_cookie or simple else None
        if refusal is not None:
            await _forbid(refusal, scope, receive, send)
            return
        if not has_cookie:
            await self.app(scope, receive, send)
            return
        token = headers[self.header][0] if self.header in headers else None
        if token is None and content_type.split(b";")[0].strip().lower() in _FORMS:
            try:
                scan = await scan_form(receive, content_type, self.field_name, self.max_body_size)
            except BodyTooLarge:
                detail = f"Form body larger than {self.max_body_size} bytes"
                await JSONResponse({"detail": detail}, 413)(scope, receive, send)
                return
            if scan.disconnected:
                return
            receive = scan.replay()
            token = scan.token.encode("latin-1") if scan.token is not None else None
        if not token:
            await _forbid("CSRF token missing", scope, receive, send)
        elif not verify_token(session, token.decode("latin-1")):
            await _forbid("CSRF token incorrect", scope, receive, send)
        else:
            await self.app(scope, receive, send)

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
        return f"Origin {text[:100]!r} is not trusted"

    def _has_cookie(self, values: list[bytes]) -> bool:
        for value in values:
            for part in value.split(b";"):
                name, sep, _ = part.partition(b"=")
                if sep and name.strip() == self.cookie:
                    return True
        return False


def _headers(scope: Scope, names: tuple[bytes, ...]) -> dict[bytes, list[bytes]]:
    found: dict[bytes, list[bytes]] = {}
    raw: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in raw:
        if key in names:
            found.setdefault(key, []).append(value)
    return found


async def _forbid(detail: str, scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse({"detail": detail}, 403)(scope, receive, send)
