"""The `Host` header, parsed as the authority of a URL (RFC 3986 section 3.2).

Every absolute URL the app builds (`request.url`, `base_url`, `url_for`, password-reset
links) starts with the client's `Host` header, so a value that is not a plain
`host[:port]` must never reach them: `example.com:@evil.example` or
`evil.example#.example.com` would make a URL parser read `evil.example` as the host.
A valid value is a DNS-style name (letters, digits, `-`, `_`, dot-separated labels, an
optional final dot), a dotted IPv4 address or a bracketed IPv6 address, then an optional
`:port` of digits from 1 to 65535. Nothing else: no user info, no path, query or fragment
characters, no percent-encoding, no IPv6 zone. Values seen before are looked up in a
bounded cache, so checking the header costs one dictionary look-up per request.

HTTP/1.1 (RFC 9112 section 3.2) requires a 400 answer to a request with more than one
`Host` header, an invalid one, or (in HTTP/1.1) none; `host_problem` says which. An empty
`Host` counts as none (some servers fill a missing one in as empty); an HTTP/1.0 request
without one is served, its URLs built from the address the server listens on.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

from trivium.types import Scope

__all__ = [
    "KNOWN_HOSTS",
    "Authority",
    "host_problem",
    "host_problem_rsgi",
    "invalid_host",
    "parse_authority",
]

_NAME = re.compile(r"(?:[a-z0-9_-]+\.)*[a-z0-9_-]+\.?", re.IGNORECASE | re.ASCII)
_MAX_NAME = 254  # 253 characters, plus the optional final dot


class Authority(NamedTuple):
    """A valid `Host` value, split."""

    host: str
    """The host, lower-cased, without a final dot; IPv6 addresses keep their brackets."""
    port: int | None
    """The port, when the value names one."""


KNOWN_HOSTS: dict[str, Authority] = {}
"""Values already found valid, by raw value (bounded: see `_CACHE_LIMIT`)."""
_KNOWN_RAW: set[bytes] = set()
_CACHE_LIMIT = 1024


def parse_authority(value: str) -> Authority | None:
    """Return the host and port of a `Host` header value, or `None` when it is not valid.

    The empty value (allowed by HTTP when the URL has no authority) is not a valid
    authority here: callers decide what it means.
    """
    known = KNOWN_HOSTS.get(value)
    if known is not None:
        return known
    authority = _parse(value)
    if authority is not None and len(KNOWN_HOSTS) < _CACHE_LIMIT:
        KNOWN_HOSTS[value] = authority
    return authority


def _parse(value: str) -> Authority | None:
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return None
        host, rest = value[: end + 1], value[end + 1 :]
        if not _is_ipv6(host[1:-1]):
            return None
    else:
        host, _, port_text = value.partition(":")
        rest = value[len(host) :]
        if len(host) > _MAX_NAME or not _NAME.fullmatch(host):
            return None
        host = host.rstrip(".")
    if not rest:
        return Authority(host.lower(), None)
    port_text = rest[1:]
    if not (rest[0] == ":" and 1 <= len(port_text) <= 5):
        return None
    if not (port_text.isascii() and port_text.isdigit()):
        return None
    port = int(port_text)
    if not 1 <= port <= 65535:
        return None
    return Authority(host.lower(), port)


def _is_ipv6(text: str) -> bool:
    # `ipaddress` accepts a `%zone` suffix, which has no place in a Host header.
    if "%" in text or not text.isascii():
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def host_problem(scope: Scope) -> str | None:
    """Say what is wrong with the `Host` header of an ASGI request, or return `None`.

    Kept to one loop and one look-up for the usual case: it runs on every request.
    """
    found: bytes | None = None
    for key, value in scope["headers"]:
        if key == b"host":
            if found is not None:
                return "the request has more than one Host header"
            found = value
    if not found:  # none, or empty (as some servers report a missing one)
        if scope.get("http_version") == "1.1":
            return "an HTTP/1.1 request needs a Host header"
        return None
    if found in _KNOWN_RAW:
        return None
    problem = _value_problem(found.decode("latin-1"))
    if problem is None and len(_KNOWN_RAW) < _CACHE_LIMIT:
        _KNOWN_RAW.add(bytes(found))
    return problem


def host_problem_rsgi(values: list[str], http_version: str) -> str | None:
    """`host_problem` for the `Host` values of an RSGI request (`headers.get_all("host")`)."""
    if len(values) > 1:
        return "the request has more than one Host header"
    if not values or not values[0]:
        return "an HTTP/1.1 request needs a Host header" if http_version == "1.1" else None
    return _value_problem(values[0])


def _value_problem(text: str) -> str | None:
    if text in KNOWN_HOSTS or parse_authority(text) is not None:
        return None
    return invalid_host(text)


def invalid_host(text: str) -> str:
    """Say why the `Host` value `text`, which `parse_authority` refused, is refused."""
    return (
        f"{text[:100]!r} is not a host name or IP address with an optional port "
        "(no user info, path, query or fragment)"
    )
