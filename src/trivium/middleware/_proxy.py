"""Take the client address, scheme and host from headers set by trusted reverse proxies.

Anyone can send `X-Forwarded-For`; it means something only when the peer that sent it is
a proxy you run. So the headers are read only when `scope["client"]` is in
`trusted_proxies`, and the client is found by walking the address list from the right
(each proxy appends the address it received the request from), skipping trusted proxies:
the first untrusted address is the client. Addresses further left were written by the
client itself and are ignored. The scheme and host come from the same hop when the proxies
append to those headers too, else from the single value the edge proxy set.

Which header family is read is configured, never guessed: a proxy that only sets
`X-Forwarded-For` passes a client-forged `Forwarded` header through untouched.

The forwarded host is read only when asked for (`forwarded_host=True`), as Werkzeug's
`ProxyFix` and uvicorn do: nginx passes a client's `X-Forwarded-Host` on unless told
otherwise, and a host taken from it builds every absolute URL (password-reset links).
A host that replaces the `Host` header is checked again: the scope's trusted-host mark
is dropped, and when a `TrustedHostMiddleware` outside this one already checked the
original, the new host is checked against that middleware's names and refused like it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Literal

from trivium.errors import ConfigurationError
from trivium.http._host import parse_authority
from trivium.middleware._hosts import HOST_CHECK_KEY
from trivium.middleware._hosts import TRUSTED_HOST_KEY
from trivium.middleware._hosts import refuse_host
from trivium.types import ASGIApp
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["ProxyHeadersMiddleware", "parse_forwarded"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_FORWARDED_PAIR = re.compile(r'\s*([A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*')


def parse_forwarded(value: str) -> list[dict[str, str]]:
    """Parse an RFC 7239 `Forwarded` header into one dict per hop (keys lower-cased)."""
    hops: list[dict[str, str]] = []
    for element in value.split(","):
        hop: dict[str, str] = {}
        for pair in element.split(";"):
            match = _FORWARDED_PAIR.fullmatch(pair)
            if match is None:
                continue
            text = match.group(2)
            if text.startswith('"'):
                text = re.sub(r"\\(.)", r"\1", text[1:-1])
            hop[match.group(1).lower()] = text
        hops.append(hop)
    return hops


def _address(value: str) -> tuple[IPAddress, int] | None:
    """Parse `1.2.3.4`, `1.2.3.4:80`, `[::1]`, `[::1]:80` or a bare IPv6 address."""
    value = value.strip()
    port = 0
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif value.count(":") == 1:
        host, _, text = value.partition(":")
        port = int(text) if text.isdigit() else 0
    else:
        host = value
    try:
        return ipaddress.ip_address(host), port
    except ValueError:
        return None


class ProxyHeadersMiddleware:
    """Rewrite the scope's client, scheme and `Host` from trusted proxies' headers.

    Args:
        app: the ASGI app to wrap.
        trusted_proxies: addresses and networks of your proxies (`"127.0.0.1"`,
            `"10.0.0.0/8"`, `"::1"`), or `"*"` to trust every peer (only when nothing
            but your proxy can reach the app).
        headers: `"x-forwarded"` reads `X-Forwarded-For`, `-Proto` (and `-Host`);
            `"forwarded"` reads the RFC 7239 `Forwarded` header.
        forwarded_host: also take the `Host` from `X-Forwarded-Host` (or `host=`); only
            when the proxy sets or clears that header itself.

    Raises:
        ConfigurationError: an entry is not an IP address or network, `headers` is
            unknown or `forwarded_host` is not a bool (`proxy-option`).
    """

    __slots__ = ("app", "forwarded_host", "mode", "networks", "trust_all")

    def __init__(
        self,
        app: ASGIApp,
        trusted_proxies: Sequence[str] = ("127.0.0.1", "::1"),
        headers: Literal["x-forwarded", "forwarded"] = "x-forwarded",
        forwarded_host: bool = False,
    ) -> None:
        if isinstance(trusted_proxies, str):
            raise ConfigurationError(
                f"trusted_proxies must be a list, not the string {trusted_proxies!r}",
                "proxy-option",
            )
        if headers not in ("x-forwarded", "forwarded"):
            raise ConfigurationError(
                f"headers must be 'x-forwarded' or 'forwarded', not {headers!r}", "proxy-option"
            )
        if not isinstance(forwarded_host, bool):
            raise ConfigurationError(
                f"forwarded_host must be True or False, not {forwarded_host!r}", "proxy-option"
            )
        networks: list[Network] = []
        for entry in trusted_proxies:
            if entry == "*":
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"trusted proxy {entry!r} is not an IP address or network "
                    "(e.g. '10.0.0.1', '10.0.0.0/8', '::1')",
                    "proxy-option",
                ) from None
        self.app = app
        self.trust_all = "*" in trusted_proxies
        self.networks = tuple(networks)
        self.mode = headers
        self.forwarded_host = forwarded_host

    def is_trusted(self, address: IPAddress | str | None) -> bool:
        """Return whether a peer at `address` is one of the trusted proxies."""
        if self.trust_all:
            return True
        if address is None:
            return False
        if isinstance(address, str):
            parsed = _address(address)
            if parsed is None:
                return False
            address = parsed[0]
        return any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Apply the proxy headers to the scope when the peer is trusted, then pass it on."""
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if self.is_trusted(client[0] if client else None):
                host = self._apply(scope)
                if host is not None and not _recheck(scope, host):
                    reason = f"{host[:100]!r} (from the proxy) is not served here"
                    await refuse_host(scope, receive, send, reason)
                    return
        await self.app(scope, receive, send)

    def _hops(self, scope: Scope) -> tuple[list[str], list[str], list[str]]:
        fors: list[str] = []
        protos: list[str] = []
        hosts: list[str] = []
        if self.mode == "forwarded":
            for key, value in scope["headers"]:
                if key == b"forwarded":
                    for hop in parse_forwarded(value.decode("latin-1")):
                        fors.append(hop.get("for", ""))
                        protos.append(hop.get("proto", ""))
                        hosts.append(hop.get("host", ""))
            return fors, protos, (hosts if self.forwarded_host else [])
        targets = {b"x-forwarded-for": fors, b"x-forwarded-proto": protos}
        if self.forwarded_host:
            targets[b"x-forwarded-host"] = hosts
        for key, value in scope["headers"]:
            found = targets.get(key)
            if found is not None:
                found.extend(part.strip() for part in value.decode("latin-1").split(","))
        return fors, protos, hosts

    def _apply(self, scope: Scope) -> str | None:
        """Rewrite the scope; return the host that replaced the `Host` header, if any."""
        fors, protos, hosts = self._hops(scope)
        index = len(fors) - 1
        while index > 0 and self.is_trusted(fors[index]):
            index -= 1
        if fors:
            address = _address(fors[index])
            if address is not None:
                scope["client"] = (str(address[0]), address[1])
        proto = _pick(protos, index, len(fors)).lower()
        if proto in ("http", "https"):
            if scope["type"] == "websocket":
                proto = "wss" if proto == "https" else "ws"
            scope["scheme"] = proto
        host = _pick(hosts, index, len(fors))
        if not host or parse_authority(host) is None:
            return None
        headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
        headers.append((b"host", host.encode("latin-1")))
        scope["headers"] = headers
        return host


def _recheck(scope: Scope, host: str) -> bool:
    """Check a forwarded host again; return whether it may be served.

    The mark a `TrustedHostMiddleware` outside this one left vouched for the old host, so
    it is dropped; it comes back when that middleware's names allow the new host too. An
    inner `TrustedHostMiddleware` checks the new host itself.
    """
    trusted = scope.pop(TRUSTED_HOST_KEY, None)
    check = scope.get(HOST_CHECK_KEY)
    if check is None:
        return True
    authority = parse_authority(host)
    if authority is None or not check(authority.host):
        return False
    if trusted is True:
        scope[TRUSTED_HOST_KEY] = True
    return True


def _pick(values: list[str], index: int, hops: int) -> str:
    # Lists as long as the address list were appended hop by hop: take the client's hop.
    if len(values) == hops and hops:
        return values[index]
    return values[-1] if values else ""
