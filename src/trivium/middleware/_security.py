"""Security response headers, a Content-Security-Policy with a per-request nonce, and HTTPS.

`SecurityHeadersMiddleware` renders every header value once at construction. Per request
it only generates a nonce (when the policy uses one), stores it in
`scope["state"]["csp_nonce"]` for templates (`request.state.csp_nonce`), and appends the
headers the app has not set itself: a handler that sets its own `X-Frame-Options` or
`Content-Security-Policy` keeps it. HSTS is sent only over HTTPS (browsers ignore it over
HTTP, and sending it there would advertise a promise the connection cannot keep).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from trivium.errors import ConfigurationError
from trivium.http._host import parse_authority
from trivium.http._response import JSONResponse
from trivium.http._response import RedirectResponse
from trivium.middleware._hosts import request_target
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = [
    "HSTS",
    "ContentSecurityPolicy",
    "HTTPSRedirectMiddleware",
    "SecurityHeadersMiddleware",
    "csp_nonce",
]

RawHeaders = list[tuple[bytes, bytes]]
Directives = Mapping[str, str | Sequence[str] | bool]

_KEYWORDS = frozenset(
    {
        "self",
        "none",
        "unsafe-inline",
        "unsafe-eval",
        "unsafe-hashes",
        "strict-dynamic",
        "report-sample",
        "wasm-unsafe-eval",
        "inline-speculation-rules",
    }
)
_DIRECTIVE = re.compile(r"^[a-z][a-z0-9-]*$")
_REFERRER_POLICIES = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "origin",
        "origin-when-cross-origin",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
_COOP = frozenset(
    {"same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none"}
)
_FRAME_ANCESTORS = {"DENY": "'none'", "SAMEORIGIN": "'self'"}


def csp_nonce(scope: Scope) -> str:
    """Return the request's CSP nonce, or `""` when its policy uses none.

    `SecurityHeadersMiddleware` makes one per request when the policy names `{nonce}`;
    an inline `<script nonce="...">` must carry it. Templates get it as `csp_nonce`.
    """
    state = scope.get("state")
    nonce = state.get("csp_nonce") if isinstance(state, Mapping) else None
    return nonce if isinstance(nonce, str) else ""


@dataclass(frozen=True, slots=True)
class HSTS:
    """Strict-Transport-Security settings (sent only on HTTPS responses)."""

    max_age: int = 31_536_000
    """Seconds browsers must use HTTPS only for this host (one year by default)."""
    include_subdomains: bool = False
    """Apply to every subdomain too; turn on once all of them serve HTTPS."""
    preload: bool = False
    """Ask to be listed in browsers' preload lists (needs subdomains and a year or more)."""

    def __post_init__(self) -> None:
        if self.max_age < 0:
            raise ConfigurationError(f"HSTS max_age must be >= 0, not {self.max_age}", "hsts")
        if self.preload and (not self.include_subdomains or self.max_age < 31_536_000):
            raise ConfigurationError(
                "HSTS preload needs include_subdomains=True and max_age of at least 31536000",
                "hsts-preload",
            )

    def render(self) -> str:
        """Return the header value."""
        value = f"max-age={self.max_age}"
        if self.include_subdomains:
            value += "; includeSubDomains"
        if self.preload:
            value += "; preload"
        return value


@dataclass(frozen=True, slots=True)
class ContentSecurityPolicy:
    """A Content-Security-Policy built from directives.

    Values are a source string or a list of sources; the keywords `self`, `none`,
    `unsafe-inline`, `strict-dynamic`... may be written without their quotes. `True` or
    an empty list gives a directive without value (`upgrade-insecure-requests`).

    A per-request nonce is used when the policy contains the placeholder `{nonce}`
    (write `"'nonce-{nonce}'"` where it belongs), or else when it has one of
    `nonce_directives`: then `'nonce-…'` is added to each of them. When `style-src` is
    among them but the policy leaves it out, it is written as `default-src`'s sources
    plus the nonce, so a nonced `<style>` (trivium's error pages have one) is not blocked
    by the fallback to `default-src`; this is skipped when `default-src` is `'none'` or
    allows `'unsafe-inline'` (a nonce would switch that off). `script-src` is never
    derived: a script nonce goes only where the policy names `script-src`.
    """

    directives: Directives
    """Directive name to sources, e.g. `{"default-src": "self", "img-src": ["self", "data:"]}`."""
    report_only: bool = False
    """Send `Content-Security-Policy-Report-Only` (report, don't block)."""
    nonce_directives: Sequence[str] = field(default=("script-src", "style-src"))
    """Directives that receive the nonce when `{nonce}` is not written explicitly."""

    def render(self, frame_ancestors: str | None = None) -> str:
        """Return the header value, with `{nonce}` where the nonce goes (if any).

        Raises:
            ConfigurationError: a directive name or value is malformed (`csp-directive`).
        """
        rendered: list[tuple[str, list[str]]] = []
        for name, value in self.directives.items():
            if value is False:
                continue
            key = name.strip().lower()
            if not _DIRECTIVE.match(key):
                raise ConfigurationError(f"invalid CSP directive name {name!r}", "csp-directive")
            rendered.append((key, _sources(key, value)))
        if not any("{nonce}" in str(v) for v in self.directives.values()):
            _add_nonce(rendered, self.nonce_directives)
        parts = [" ".join([key, *sources]) for key, sources in rendered]
        if frame_ancestors is not None and all(key != "frame-ancestors" for key, _ in rendered):
            parts.append(f"frame-ancestors {frame_ancestors}")
        return "; ".join(parts)


_NONCE = "'nonce-{nonce}'"
# Written from `default-src` when left out, because trivium's own pages inline their
# styles. `script-src` never is: scripts are what a policy mostly holds back, so a script
# nonce goes only where the application names `script-src`.
_DERIVED = "style-src"


def _add_nonce(rendered: list[tuple[str, list[str]]], directives: Sequence[str]) -> None:
    """Add the nonce to `directives`; a left-out `style-src` is derived from `default-src`."""
    wanted = {directives} if isinstance(directives, str) else set(directives)
    present = {key for key, _ in rendered}
    if present.isdisjoint(wanted):
        return  # the policy does not use a nonce
    fallback = next((list(sources) for key, sources in rendered if key == "default-src"), None)
    for key, sources in rendered:
        if key in wanted:
            sources.append(_NONCE)
    if not fallback or {s.lower() for s in fallback} & {"'none'", "'unsafe-inline'"}:
        # Nothing to derive from, or nothing to gain: `'none'` (or no source) is meant as
        # it is, and a nonce would make browsers ignore the `'unsafe-inline'` relied on.
        return
    if _DERIVED in wanted and _DERIVED not in present:
        rendered.append((_DERIVED, [*fallback, _NONCE]))


def _sources(directive: str, value: str | Sequence[str] | bool) -> list[str]:
    if value is True or value is False:
        items: list[str] = []
    elif isinstance(value, str):
        items = value.split()
    else:
        items = [word for item in value for word in str(item).split()]
    sources = []
    for item in items:
        if any(c in item for c in ";,\r\n\0"):
            raise ConfigurationError(
                f"CSP value {item!r} of {directive!r} must not contain ';', ',' or control "
                "characters",
                "csp-directive",
            )
        sources.append(f"'{item}'" if item.lower() in _KEYWORDS else item)
    return sources


def _permissions(policy: Mapping[str, Sequence[str]] | str) -> str:
    if isinstance(policy, str):
        if any(ord(c) < 0x20 or c == "\x7f" for c in policy):
            raise ConfigurationError(
                "Permissions-Policy must not contain control characters", "permissions-policy"
            )
        return policy
    parts = []
    for feature, allowed in policy.items():
        if not _DIRECTIVE.match(feature) or isinstance(allowed, str):
            raise ConfigurationError(
                f"Permissions-Policy entry {feature!r}: {allowed!r} must map a feature name "
                'to a list of origins ([] to disable, ["self"], ["*"])',
                "permissions-policy",
            )
        items = [a if a in ("self", "*") else f'"{a}"' for a in allowed]
        parts.append(f"{feature}=({' '.join(items)})")
    return ", ".join(parts)


def _choice(name: str, value: str | None, allowed: frozenset[str] | Mapping[str, str]) -> None:
    if value is not None and value not in allowed:
        raise ConfigurationError(
            f"{name} must be one of {', '.join(sorted(allowed))} or None, not {value!r}",
            "security-header",
        )


class SecurityHeadersMiddleware:
    """Add security headers to every HTTP response the app did not set them on.

    Args:
        app: the ASGI app to wrap.
        hsts: `Strict-Transport-Security` settings, `True` for the defaults, `False` to
            send none; only sent on HTTPS requests.
        csp: a Content-Security-Policy, as a `ContentSecurityPolicy` or a plain
            directives mapping; `None` sends none.
        frame_options: `X-Frame-Options` (`"DENY"`, `"SAMEORIGIN"` or `None`); also
            becomes the policy's `frame-ancestors` when it has none.
        referrer_policy: `Referrer-Policy`, or `None`.
        permissions_policy: `Permissions-Policy`, as feature → allowed origins
            (`{"camera": [], "geolocation": ["self"]}`) or a ready string; `None` sends none.
        cross_origin_opener_policy: `Cross-Origin-Opener-Policy`, or `None`.
        content_type_options: send `X-Content-Type-Options: nosniff`.

    Raises:
        ConfigurationError: an option has a value browsers would not understand.
    """

    __slots__ = ("app", "csp_name", "csp_template", "headers", "hsts")

    replaces_default_headers = True
    """An app using this middleware leaves its own default security headers to it.

    The app's edge still adds `fixed_headers` to the responses that never pass through
    it (an outer middleware's own answer, the edge's 500), when they lack them.
    """

    def __init__(  # noqa: PLR0913 - one option per header, each independent
        self,
        app: ASGIApp,
        hsts: HSTS | bool = True,
        csp: ContentSecurityPolicy | Directives | None = None,
        frame_options: str | None = "DENY",
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        permissions_policy: Mapping[str, Sequence[str]] | str | None = None,
        cross_origin_opener_policy: str | None = "same-origin",
        content_type_options: bool = True,
    ) -> None:
        frame_options = frame_options.upper() if frame_options else None
        _choice("frame_options", frame_options, _FRAME_ANCESTORS)
        _choice("referrer_policy", referrer_policy, _REFERRER_POLICIES)
        _choice("cross_origin_opener_policy", cross_origin_opener_policy, _COOP)
        self.app = app
        headers: list[tuple[str, str]] = []
        if content_type_options:
            headers.append(("x-content-type-options", "nosniff"))
        if frame_options is not None:
            headers.append(("x-frame-options", frame_options))
        if referrer_policy is not None:
            headers.append(("referrer-policy", referrer_policy))
        if permissions_policy is not None:
            headers.append(("permissions-policy", _permissions(permissions_policy)))
        if cross_origin_opener_policy is not None:
            headers.append(("cross-origin-opener-policy", cross_origin_opener_policy))
        self.headers: RawHeaders = [(k.encode(), v.encode("latin-1")) for k, v in headers]
        if hsts is True:
            hsts = HSTS()
        self.hsts = (b"strict-transport-security", hsts.render().encode()) if hsts else None
        self.csp_template: str | None = None
        self.csp_name = b"content-security-policy"
        if csp is not None:
            if not isinstance(csp, ContentSecurityPolicy):
                csp = ContentSecurityPolicy(csp)
            if csp.report_only:
                self.csp_name = b"content-security-policy-report-only"
            ancestors = _FRAME_ANCESTORS.get(frame_options) if frame_options else None
            template = csp.render(ancestors)
            if "{nonce}" in template:
                self.csp_template = template
            else:
                self.headers.append((self.csp_name, template.encode("latin-1")))

    @property
    def fixed_headers(self) -> RawHeaders:
        """The headers that are the same on every response.

        Not HSTS (HTTPS only), nor a policy with a nonce (new for each request).
        """
        return self.headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, adding the security headers to its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.headers
        if self.csp_template is not None:
            nonce = secrets.token_urlsafe(16)
            state = scope.get("state")
            if state is None:
                state = scope["state"] = {}
            state["csp_nonce"] = nonce
            policy = self.csp_template.replace("{nonce}", nonce)
            headers = [*headers, (self.csp_name, policy.encode("latin-1"))]
        if self.hsts is not None and scope.get("scheme") == "https":
            headers = [*headers, self.hsts]
        await self.app(scope, receive, _HeaderSend(send, headers))


class _HeaderSend:
    __slots__ = ("extra", "send")

    def __init__(self, send: Send, extra: RawHeaders) -> None:
        self.send = send
        self.extra = extra

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {name.lower() for name, _ in headers}
            headers.extend(item for item in self.extra if item[0] not in present)
            message["headers"] = headers
        await self.send(message)


class HTTPSRedirectMiddleware:
    """Redirect plain HTTP (and `ws:`) requests to HTTPS (`wss:`) with 308, keeping path and query.

    Put it after `ProxyHeadersMiddleware` when the app runs behind a TLS-terminating
    proxy, so the scheme the client used is known.
    """

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Redirect insecure requests; pass secure ones on."""
        kind = scope["type"]
        scheme = scope.get("scheme", "http")
        if kind not in ("http", "websocket") or scheme in ("https", "wss"):
            await self.app(scope, receive, send)
            return
        netloc = _netloc(scope)
        if netloc is None:
            if kind == "http":
                await JSONResponse({"detail": "Invalid Host header"}, 400)(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008, "reason": "Invalid host"})
            return
        secure = "https" if kind == "http" else "wss"
        url = f"{secure}://{netloc}{request_target(scope)}"
        if kind == "http":
            await RedirectResponse(url, 308)(scope, receive, send)
        elif "websocket.http.response" in scope.get("extensions", {}):
            location = RedirectResponse(url, 308).headers["location"].encode("latin-1")
            start = {
                "type": "websocket.http.response.start",
                "status": 308,
                "headers": [(b"location", location), (b"content-length", b"0")],
            }
            await send(start)
            await send({"type": "websocket.http.response.body", "body": b""})
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": "Use wss://"})


def _netloc(scope: Scope) -> str | None:
    host = None
    for key, value in scope["headers"]:
        if key == b"host":
            host = value.decode("latin-1").strip()
            break
    if host is None:
        server = scope.get("server")
        if not server:
            return None
        name, port = str(server[0]), server[1]
        host = f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
    elif parse_authority(host) is None:
        return None
    # Drop the plain-HTTP default port; any other port is kept as given.
    for default in (":80", ":443"):
        if host.endswith(default):
            return host[: -len(default)]
    return host
