"""Cross-origin resource sharing (CORS).

Everything the middleware decides per request is compiled in `__init__`: the origin set
and regex, the method and header sets, and the header values of a successful preflight.
A preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here without
reaching the app; a refused one gets a 400 whose JSON body names what was refused, so the
developer sees the reason instead of a browser console's generic error. Other requests
pass through, and the response gains `Access-Control-Allow-Origin` when the origin is
allowed. Unless every origin is allowed without credentials, responses carry
`Vary: Origin` so a shared cache never hands one origin's answer to another.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from trivium.errors import ConfigurationError
from trivium.http._response import JSONResponse
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["CORSMiddleware", "merge_vary"]

SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
"""Request headers a browser sends without asking in a preflight."""
_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#\s]+$")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_PROBE_ORIGINS = ("https://a9.unrelated-origin.test", "http://a9.unrelated-origin.test:8080")
"""Origins no pattern written for a site's own domains matches (see `_matches_any_origin`)."""


def merge_vary(headers: list[tuple[bytes, bytes]], token: bytes) -> None:
    """Add `token` to the `vary` header in a raw header list (once, case-insensitively)."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            present = {part.strip().lower() for part in value.split(b",")}
            if token.lower() not in present and b"*" not in present:
                headers[index] = (name, value + b", " + token)
            return
    headers.append((b"vary", token))


def _matches_any_origin(regex: re.Pattern[str] | None) -> bool:
    """Return whether `regex` allows arbitrary web origins (`.*`, `https?://.+`).

    Tried on unrelated origins: a pattern that accepts one of them accepts any site.
    """
    return regex is not None and any(regex.fullmatch(origin) for origin in _PROBE_ORIGINS)


def _tokens(values: Sequence[str], what: str, *, upper: bool) -> frozenset[str]:
    if isinstance(values, str):
        raise ConfigurationError(
            f"CORS {what} must be a list of strings, not the string {values!r}", "cors-option"
        )
    result = set()
    for value in values:
        if value != "*" and not _TOKEN.match(value):
            raise ConfigurationError(f"CORS {what} has an invalid entry {value!r}", "cors-option")
        result.add(value.upper() if upper else value.lower())
    return frozenset(result)


def _origins(values: Sequence[str]) -> frozenset[str]:
    if isinstance(values, str):
        raise ConfigurationError(
            f"allow_origins must be a list, not the string {values!r}; "
            f"write allow_origins=[{values!r}]",
            "cors-option",
        )
    for origin in values:
        if origin not in ("*", "null") and not _ORIGIN.match(origin.lower()):
            raise ConfigurationError(
                f"CORS origin {origin!r} must look like 'https://example.com' or "
                "'http://localhost:8000': a scheme and host, optional port, no path or "
                "trailing slash",
                "cors-origin",
            )
    return frozenset(origin.lower() for origin in values)


class CORSMiddleware:
    """Answer CORS preflights and add CORS headers to responses.

    Args:
        app: the ASGI app to wrap.
        allow_origins: origins allowed to call the app (`"https://example.com"`), or
            `["*"]` for any origin.
        allow_origin_regex: a regular expression an origin must match in full to be
            allowed, in addition to `allow_origins`.
        allow_methods: methods a preflight may ask for, or `["*"]` for any.
        allow_headers: request headers a preflight may ask for, or `["*"]` for any; the
            CORS-safelisted headers are always allowed.
        allow_credentials: let browsers send cookies and read the response
            (`Access-Control-Allow-Credentials: true`); not allowed with `["*"]` origins.
        expose_headers: response headers scripts may read.
        max_age: seconds a browser may cache a preflight answer.

    Raises:
        ConfigurationError: an option is invalid (`cors-origin`, `cors-option`,
            `cors-origin-regex`), or `allow_origins=["*"]` or a regex that matches any
            origin is combined with credentials (`cors-wildcard-credentials`).
    """

    __slots__ = (
        "allow_all_headers",
        "allow_all_methods",
        "allow_all_origins",
        "allow_credentials",
        "allow_headers",
        "allow_methods",
        "app",
        "expose",
        "max_age",
        "origin_regex",
        "origins",
        "vary_always",
    )

    def __init__(  # noqa: PLR0913 - the CORS options are independent and all common
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_origin_regex: str | None = None,
        allow_methods: Sequence[str] = ("GET", "HEAD", "POST"),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        self.app = app
        self.origins = _origins(allow_origins)
        self.allow_all_origins = "*" in self.origins
        if self.allow_all_origins and allow_credentials:
            raise ConfigurationError(
                'allow_origins=["*"] cannot be combined with allow_credentials=True: browsers '
                "refuse credentialed responses to a wildcard origin; list the origins instead",
                "cors-wildcard-credentials",
            )
        try:
            self.origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        except re.error as exc:
            raise ConfigurationError(
                f"allow_origin_regex {allow_origin_regex!r} is not a valid regular "
                f"expression: {exc}",
                "cors-origin-regex",
            ) from None
        if allow_credentials and _matches_any_origin(self.origin_regex):
            raise ConfigurationError(
                f"allow_origin_regex={allow_origin_regex!r} matches any origin, which with "
                "allow_credentials=True lets every site read credentialed responses (as "
                'allow_origins=["*"] would); write a pattern for your own domains, such as '
                r"r'https://[a-z0-9-]+\.example\.com'",
                "cors-wildcard-credentials",
            )
        methods = _tokens(allow_methods, "allow_methods", upper=True)
        self.allow_all_methods = "*" in methods
        self.allow_methods = methods
        headers = _tokens(allow_headers, "allow_headers", upper=False)
        self.allow_all_headers = "*" in headers
        self.allow_headers = headers | SAFELISTED_HEADERS
        if max_age < 0:
            raise ConfigurationError(f"CORS max_age must be >= 0, not {max_age}", "cors-option")
        self.max_age = str(max_age).encode()
        self.allow_credentials = allow_credentials
        _tokens(expose_headers, "expose_headers", upper=False)  # checked; sent as written
        expose = list(dict.fromkeys(expose_headers))
        self.expose = ", ".join(expose).encode() if expose else None
        # With a plain wildcard and no credentials the answer never depends on the origin.
        self.vary_always = not (self.allow_all_origins and self.origin_regex is None)

    def is_allowed_origin(self, origin: str) -> bool:
        """Return whether `origin` may read responses."""
        if self.allow_all_origins or origin.lower() in self.origins:
            return True
        return self.origin_regex is not None and self.origin_regex.fullmatch(origin) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a preflight or pass the request on, adding CORS headers to the response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = request_method = requested = None
        for key, value in scope["headers"]:
            if key == b"origin":
                origin = value.decode("latin-1")
            elif key == b"access-control-request-method":
                request_method = value.decode("latin-1")
            elif key == b"access-control-request-headers":
                requested = value.decode("latin-1")
        if origin is None:
            if not self.vary_always:
                await self.app(scope, receive, send)
                return
            await self.app(scope, receive, _VarySend(send))
            return
        if scope["method"] == "OPTIONS" and request_method is not None:
            await self._preflight(scope, receive, send, origin, request_method, requested)
            return
        await self.app(scope, receive, _SimpleSend(send, self, origin))

    def _origin_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        value = b"*" if self.allow_all_origins and not self.vary_always else origin.encode()
        headers = [(b"access-control-allow-origin", value)]
        if self.allow_credentials:
            headers.append((b"access-control-allow-credentials", b"true"))
        return headers

    async def _preflight(  # noqa: PLR0913 - the parts of the preflight read once in __call__
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        origin: str,
        method: str,
        requested: str | None,
    ) -> None:
        names = [h.strip().lower() for h in (requested or "").split(",") if h.strip()]
        refused: dict[str, object] = {}
        if not self.is_allowed_origin(origin):
            refused["origin"] = origin
        if not self.allow_all_methods and method.upper() not in self.allow_methods:
            refused["method"] = method
        if not self.allow_all_headers:
            bad = [name for name in names if name not in self.allow_headers]
            if bad:
                refused["headers"] = bad
        if refused:
            detail = "CORS preflight refused: " + ", ".join(
                f"{what} not allowed" for what in refused
            )
            response = JSONResponse({"detail": detail, "refused": refused}, 400, {"vary": "Origin"})
            await response(scope, receive, send)
            return
        headers = self._origin_headers(origin)
        allowed_methods = (
            method.upper() if self.allow_all_methods else ", ".join(sorted(self.allow_methods))
        )
        headers.append((b"access-control-allow-methods", allowed_methods.encode("latin-1")))
        if names:
            # Echo what was asked: it passed the check, and a literal "*" is not honoured
            # by browsers on credentialed requests.
            headers.append((b"access-control-allow-headers", ", ".join(names).encode("latin-1")))
        headers.append((b"access-control-max-age", self.max_age))
        headers.append((b"vary", b"Origin"))  # no Content-Length: never on a 204 (RFC 9110)
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


class _VarySend:
    __slots__ = ("send",)

    def __init__(self, send: Send) -> None:
        self.send = send

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            merge_vary(headers, b"Origin")
            message["headers"] = headers
        await self.send(message)


class _SimpleSend:
    __slots__ = ("cors", "origin", "send")

    def __init__(self, send: Send, cors: CORSMiddleware, origin: str) -> None:
        self.send = send
        self.cors = cors
        self.origin = origin

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            cors = self.cors
            headers = list(message.get("headers", ()))
            if cors.is_allowed_origin(self.origin):
                present = {name.lower() for name, _ in headers}
                for name, value in cors._origin_headers(self.origin):
                    if name not in present:
                        headers.append((name, value))
                if cors.expose is not None and b"access-control-expose-headers" not in present:
                    headers.append((b"access-control-expose-headers", cors.expose))
            if cors.vary_always:
                merge_vary(headers, b"Origin")
            message["headers"] = headers
        await self.send(message)
