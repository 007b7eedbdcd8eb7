"""The one cookie codec: parse `Cookie` headers, format `Set-Cookie` values.

Request cookies (`request.cookies`, the RSGI fast path), the session battery and
`Response.set_cookie` all go through these two functions, so a cookie reads and writes
the same way everywhere: a value with characters a cookie can't hold (spaces, quotes,
commas, semicolons, backslashes, `%`, anything beyond ASCII) is percent-encoded as
UTF-8 when written and decoded when read, so any string comes back as it was set.
"""

from __future__ import annotations

import time
from datetime import UTC
from datetime import datetime
from typing import Literal
from urllib.parse import quote
from urllib.parse import unquote

__all__ = ["SameSite", "format_set_cookie", "parse_cookie_header"]

SameSite = Literal["lax", "strict", "none"]
_VALUE_SAFE = "!#$&'()*+-./:<=>?@[]^_`{|}~"
"""RFC 6265's cookie-octets besides ASCII letters and digits, less `%` (the escape)."""
_PLAIN = frozenset(_VALUE_SAFE + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_SAFE = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a `Cookie` header leniently: bad pairs are skipped, never fatal."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep:
            continue
        name = name.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if "%" in value:
            value = unquote(value)
        if name:
            cookies[name] = value
    return cookies


def _quoted(value: str) -> str:
    # Percent-encode what a cookie-octet can't hold; `parse_cookie_header` decodes it.
    if _PLAIN.issuperset(value):
        return value
    if any(ord(c) < 0x20 or c == "\x7f" for c in value):
        raise ValueError("cookie values must not contain control characters")
    return quote(value, safe=_VALUE_SAFE)


def _expires(value: datetime | int) -> str:
    from email.utils import format_datetime

    if isinstance(value, datetime):
        return format_datetime(value.astimezone(UTC), usegmt=True)
    moment = datetime.fromtimestamp(time.time() + value, UTC)
    return format_datetime(moment, usegmt=True)


def format_set_cookie(  # noqa: PLR0913 - mirrors the cookie attributes one to one
    key: str,
    value: str = "",
    *,
    max_age: int | None = None,
    expires: datetime | int | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = True,
    samesite: SameSite | None = "lax",
    partitioned: bool = False,
) -> str:
    """Return the value of a `Set-Cookie` header (`name=value; Path=/; HttpOnly; ...`).

    `expires` is a datetime or a number of seconds from now, as in Starlette (0 expires
    the cookie at once).

    Raises:
        ValueError: the name is not a valid cookie name, the value holds control
            characters, or SameSite is unknown.
    """
    if not key or not set(key) <= _NAME_SAFE:
        raise ValueError(f"{key!r} is not a valid cookie name")
    if samesite is not None and samesite.lower() not in ("lax", "strict", "none"):
        raise ValueError("samesite must be 'lax', 'strict' or 'none'")
    # Attributes in the order the standard library's `Morsel` writes them.
    parts = [f"{key}={_quoted(value)}"]
    if domain is not None:
        parts.append(f"Domain={domain}")
    if expires is not None:
        parts.append(f"expires={_expires(expires)}")
    if httponly:
        parts.append("HttpOnly")
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if path is not None:
        parts.append(f"Path={path}")
    if samesite is not None:
        parts.append(f"SameSite={samesite.capitalize()}")
    if secure or (samesite is not None and samesite.lower() == "none"):
        parts.append("Secure")
    if partitioned:
        parts.append("Partitioned")
    return "; ".join(parts)
