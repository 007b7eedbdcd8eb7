"""Which hosts and browser origins may use the MCP endpoint (DNS rebinding protection).

A web page can make a browser send requests to a server on the visitor's machine or
network: by DNS rebinding its own name to `127.0.0.1` (the request then carries
`Host: evil.example`), or directly, cross-origin (with `Origin: http://evil.example`).
The MCP Streamable HTTP transport requires servers to validate `Origin`; checking `Host`
as well stops rebinding for clients that send no `Origin`.

The host is accepted when the app's `TrustedHostMiddleware` checked it against a list of
names (it then marks the request), when it is a loopback name (`localhost`,
`127.0.0.1`, `[::1]`, any port: what a development server is reached at), or when
`MCP(allowed_hosts=...)` lists it. A request with an `Origin` header must come from the
origin it is sent to (same scheme, host and port) or from one `MCP(allowed_origins=...)`
lists. Requests without `Origin` (MCP clients that are not browsers) pass on the host
alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from trivium.errors import ConfigurationError
from trivium.http import parse_authority
from trivium.middleware import TRUSTED_HOST_KEY

__all__ = ["LOOPBACK_HOSTS", "OriginPolicy"]

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
"""Host names always served: a client on this machine."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginPolicy:
    """The hosts and origins the MCP endpoint answers (see the module docstring).

    Raises:
        ConfigurationError: an entry of `allowed_hosts` that is not a host name, an IP
            address, a `*.example.com` pattern or `*` (`mcp-hosts`), or of
            `allowed_origins` that is not `scheme://host[:port]` (`mcp-origins`).
    """

    __slots__ = ("any_host", "exact", "origins", "suffixes")

    def __init__(self, allowed_hosts: Sequence[str], allowed_origins: Sequence[str]) -> None:
        for option, value, code in (
            ("allowed_hosts", allowed_hosts, "mcp-hosts"),
            ("allowed_origins", allowed_origins, "mcp-origins"),
        ):
            if isinstance(value, str):
                raise ConfigurationError(
                    f"MCP({option}={value!r}) takes a list, not a string: {option}=[{value!r}]",
                    code,
                )
        exact: set[str] = set()
        suffixes: list[str] = []
        self.any_host = False
        for entry in allowed_hosts:
            value = str(entry).strip().lower()
            if value == "*":
                self.any_host = True
                continue
            name = value[2:] if value.startswith("*.") else value
            authority = parse_authority(name) if name else None
            if authority is None or authority.port is not None:
                raise ConfigurationError(
                    f"MCP(allowed_hosts=...): {entry!r} is not a host name, an IP address, "
                    "a '*.example.com' pattern or '*' (no scheme or port)",
                    "mcp-hosts",
                )
            if value.startswith("*."):
                suffixes.append("." + authority.host)
            else:
                exact.add(authority.host)
        self.exact = frozenset(exact)
        self.suffixes = tuple(suffixes)
        self.origins = frozenset(_configured_origin(entry) for entry in allowed_origins)

    def refusal(self, scope: Mapping[str, Any]) -> str | None:
        """Say why the MCP request of `scope` is refused, or return `None` to serve it."""
        host = origin = None
        for key, value in scope.get("headers", ()):
            name = key.lower()
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"origin":
                origin = value.decode("latin-1").strip()
        authority = parse_authority(host) if host else None
        if host and not self._host_allowed(scope, authority):
            return (
                f"MCP requests for the host {host[:100]!r} are refused (DNS rebinding "
                "protection): list it in TrustedHostMiddleware(allowed_hosts=[...]) or "
                "MCP(allowed_hosts=[...]); without either, only localhost, 127.0.0.1 and "
                "[::1] are served"
            )
        if origin is None:
            return None
        found = _origin(origin)
        own = None
        if authority is not None:
            scheme = str(scope.get("scheme", "http")).lower()
            port = authority.port or _DEFAULT_PORTS.get(scheme)
            own = (scheme, authority.host, port)
        if found is not None and (found == own or found in self.origins):
            return None
        served = f"{own[0]}://{host}" if own is not None else "its own origin"
        return (
            f"MCP requests from the origin {origin[:100]!r} are refused: a web page may use "
            f"this server only from the origin it is served at ({served}) or from one listed "
            "in MCP(allowed_origins=[...])"
        )

    def _host_allowed(self, scope: Mapping[str, Any], authority: Any) -> bool:
        if self.any_host or scope.get(TRUSTED_HOST_KEY) is True:
            return True
        if authority is None:
            return False
        name: str = authority.host
        return (
            name in LOOPBACK_HOSTS
            or name in self.exact
            or (bool(self.suffixes) and name.endswith(self.suffixes))
        )


def _origin(text: str) -> tuple[str, str, int | None] | None:
    """Return the scheme, host and port of a serialized origin, or `None` (`null`, junk)."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if not parts.scheme or not host or parts.path not in ("", "/"):
        return None
    if parts.username is not None or parts.query or parts.fragment:
        return None
    scheme = parts.scheme.lower()
    if ":" in host:
        host = f"[{host}]"
    return scheme, host.rstrip(".").lower(), port or _DEFAULT_PORTS.get(scheme)


def _configured_origin(entry: Any) -> tuple[str, str, int | None]:
    found = _origin(str(entry).strip()) if isinstance(entry, str) else None
    if found is None or found[0] not in _DEFAULT_PORTS:
        raise ConfigurationError(
            f"MCP(allowed_origins=...): {entry!r} is not an origin such as "
            "'https://app.example.com' or 'http://localhost:5173' (scheme, host and "
            "optional port; no path)",
            "mcp-origins",
        )
    return found
