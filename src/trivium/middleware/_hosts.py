"""Refuse requests whose `Host` header is not one of the app's own names.

A forged `Host` poisons every absolute URL the app builds (password-reset links, redirects,
cache keys). The header is first parsed as a URL authority (`trivium.http.parse_authority`:
a host name or IP address and an optional port, nothing else), so that values such as
`example.com:@evil.example` or `evil.example#.example.com` are refused rather than matched
as text. The allowed names are compiled once into a set of exact names and a tuple of
suffixes for `*.example.com` patterns, so the check is a set lookup and one `endswith`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from trivium.errors import ConfigurationError
from trivium.http._host import invalid_host
from trivium.http._host import parse_authority
from trivium.http._paths import scope_path
from trivium.http._response import JSONResponse
from trivium.http._response import RedirectResponse
from trivium.types import ASGIApp
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = [
    "HOST_CHECK_KEY",
    "TRUSTED_HOST_KEY",
    "TrustedHostMiddleware",
    "host_name",
    "refuse_host",
    "request_target",
]

TRUSTED_HOST_KEY = "trivium.trusted_host"
"""Scope key set to `True` by `TrustedHostMiddleware` once the `Host` header passed its check.

Code that builds absolute URLs from the request (password-reset links) trusts
`request.base_url` only when it is set. It is not set with `allowed_hosts=["*"]`.
`ProxyHeadersMiddleware` removes it when it replaces the `Host` header with one that
was not checked.
"""
HOST_CHECK_KEY = "trivium.host_check"
"""Scope key holding the `is_allowed` of the `TrustedHostMiddleware` that set `TRUSTED_HOST_KEY`.

`ProxyHeadersMiddleware`, when inside it, checks a forwarded host with it.
"""

_NAME = re.compile(
    r"^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$"
)
_IP_LITERAL = re.compile(r"^(\[[0-9a-f:.]+\]|[0-9.]+)$")


def host_name(host: str) -> str:
    """Return the host of a `Host` header value: lower-cased, without port or final dot.

    An invalid value (see `trivium.http.parse_authority`) gives `""`, which no pattern
    allows.
    """
    authority = parse_authority(host.strip())
    return authority.host if authority is not None else ""


def request_target(scope: Scope) -> str:
    """Return the path (with `root_path`, percent-encoded) and query string the client asked for."""
    path = scope_path(scope)
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


class TrustedHostMiddleware:
    """Answer 400 to requests for a host the app does not serve.

    Refused with 400 and a JSON `detail`: a `Host` that is not a valid `host[:port]`
    (user info, path, query or fragment characters, a bad port), a request with two
    `Host` headers or none, and a valid host that no pattern allows. A websocket to
    such a host is closed with code 1008.

    Args:
        app: the ASGI app to wrap.
        allowed_hosts: host names (`"example.com"`), subdomain patterns
            (`"*.example.com"`, which does not match `example.com` itself), IP literals
            (`"127.0.0.1"`, `"[::1]"`), or `"*"` to allow any host.
        www_redirect: when the host is not allowed but `www.` + host is, redirect
            (308) there instead of refusing.

    Raises:
        ConfigurationError: the list is empty or holds an invalid pattern
            (`trusted-host-pattern`).
    """

    __slots__ = ("allow_any", "app", "exact", "suffixes", "www_redirect")

    def __init__(
        self, app: ASGIApp, allowed_hosts: Sequence[str], www_redirect: bool = True
    ) -> None:
        if isinstance(allowed_hosts, str) or not allowed_hosts:
            raise ConfigurationError(
                f"allowed_hosts must be a non-empty list of host names, not {allowed_hosts!r}; "
                'use ["*"] to allow any host',
                "trusted-host-pattern",
            )
        exact: set[str] = set()
        suffixes: list[str] = []
        for pattern in allowed_hosts:
            value = pattern.strip().lower()
            if value == "*":
                continue
            if not (_NAME.match(value) or _IP_LITERAL.match(value)):
                raise ConfigurationError(
                    f"allowed host {pattern!r} is not a host name, an IP address or a "
                    "'*.example.com' pattern (no scheme, port or path)",
                    "trusted-host-pattern",
                )
            if value.startswith("*."):
                suffixes.append(value[1:].rstrip("."))
            else:
                exact.add(value.rstrip("."))
        self.app = app
        self.allow_any = "*" in (p.strip() for p in allowed_hosts)
        self.exact = frozenset(exact)
        self.suffixes = tuple(suffixes)
        self.www_redirect = www_redirect

    def is_allowed(self, host: str) -> bool:
        """Return whether the host name `host` (no port) is served."""
        return self.allow_any or host in self.exact or host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass requests for an allowed host on; refuse or redirect the others."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw: bytes | None = None
        for key, value in scope["headers"]:
            if key == b"host":
                if raw is not None:
                    await refuse_host(
                        scope, receive, send, "the request has more than one Host header"
                    )
                    return
                raw = value
        text = (raw or b"").decode("latin-1")
        authority = parse_authority(text)
        if authority is None:
            await refuse_host(scope, receive, send, _invalid(text))
            return
        if self.is_allowed(authority.host):
            if not self.allow_any:  # "*" vouches for no host
                scope[TRUSTED_HOST_KEY] = True
                scope[HOST_CHECK_KEY] = self.is_allowed
            await self.app(scope, receive, send)
            return
        host = authority.host
        if scope["type"] == "http" and self.www_redirect and self.is_allowed("www." + host):
            port = f":{authority.port}" if authority.port is not None else ""
            target = f"{scope.get('scheme', 'http')}://www.{host}{port}{request_target(scope)}"
            await RedirectResponse(target, 308)(scope, receive, send)
            return
        await refuse_host(scope, receive, send, f"{text[:100]!r} is not served here")


async def refuse_host(scope: Scope, receive: Receive, send: Send, reason: str) -> None:
    """Answer 400 with `Invalid Host header: reason`; close a websocket with 1008."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": "Invalid host"})
        return
    response = JSONResponse({"detail": f"Invalid Host header: {reason}"}, 400)
    await response(scope, receive, send)


def _invalid(text: str) -> str:
    return invalid_host(text) if text else "the request names no host"
