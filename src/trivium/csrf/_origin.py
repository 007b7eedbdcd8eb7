"""Origin checks: does an unsafe request come from the app's own site or a trusted one?

Browsers send `Origin` on every cross-site (and most same-site) unsafe request, and no
page can forge it. Comparing it with the request's own `scheme://host` stops cross-site
requests, including login forms posted from another site, before any token is looked
at. Over HTTPS without `Origin`, the `Referer`'s origin is checked instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from trivium.errors import ConfigurationError
from trivium.http import parse_authority
from trivium.types import Scope

__all__ = ["OriginPolicy", "normalize_origin"]

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def normalize_origin(value: str) -> str | None:
    """Return `scheme://host[:port]` in lower case without a default port, or `None`."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and str(port) != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def _well_formed(entry: str) -> bool:
    """Whether a configured origin is only a scheme and a valid host (and port).

    `normalize_origin` reads what browsers send and drops anything else; a setting with
    a query, a fragment, user info, a path or a `*` left in the host could never match
    an origin, so it is refused rather than quietly trusting nothing.
    """
    try:
        parts = urlsplit(entry.strip())
    except ValueError:
        return False
    if "?" in entry or "#" in entry or "@" in parts.netloc:  # a query, fragment, user info
        return False
    return parts.path in ("", "/") and parse_authority(parts.netloc) is not None


class OriginPolicy:
    """The origins an unsafe request may come from: its own, plus `trusted_origins`.

    Args:
        trusted_origins: origins such as `"https://app.example.com"`, or
            `"https://*.example.com"` for every subdomain.

    Raises:
        ConfigurationError: an entry is not a `scheme://host[:port]` origin
            (`csrf-trusted-origin`).
    """

    __slots__ = ("exact", "wildcards")

    def __init__(self, trusted_origins: Sequence[str]) -> None:
        if isinstance(trusted_origins, str):
            trusted_origins = [trusted_origins]
        exact: set[str] = set()
        wildcards: list[tuple[str, str]] = []
        for entry in trusted_origins:
            wildcard = isinstance(entry, str) and "://*." in entry
            plain = entry.replace("://*.", "://", 1) if wildcard else entry
            origin = normalize_origin(plain) if _well_formed(plain) else None
            if origin is None:
                raise ConfigurationError(
                    f"trusted origin {entry!r} must look like 'https://app.example.com' or "
                    "'https://*.example.com' (scheme and host, optional port, no path)",
                    "csrf-trusted-origin",
                )
            if wildcard:
                scheme, _, rest = origin.partition("://")
                wildcards.append((f"{scheme}://", "." + rest))
            else:
                exact.add(origin)
        self.exact = frozenset(exact)
        """Trusted origins, normalised."""
        self.wildcards = tuple(wildcards)
        """(scheme prefix, `.host[:port]` suffix) pairs of the `*.` patterns."""

    def trusts(self, origin: str, scope: Scope) -> bool:
        """Return whether the normalised `origin` is the request's own or a trusted one."""
        if origin in self.exact or origin == own_origin(scope):
            return True
        return any(
            origin.startswith(scheme) and origin.endswith(suffix)
            for scheme, suffix in self.wildcards
        )


def own_origin(scope: Scope) -> str | None:
    """Return the origin the request was sent to: its scheme and `Host` header."""
    host = None
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in headers:
        if key == b"host":
            host = value.decode("latin-1")
            break
    if host is None:
        server = scope.get("server")
        if not server:
            return None
        host = f"{server[0]}:{server[1]}"
    return normalize_origin(f"{scope.get('scheme', 'http')}://{host}")
