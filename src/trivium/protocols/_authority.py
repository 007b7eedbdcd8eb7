"""The host of an HTTP/2 request on Granian's RSGI interface: its `:authority`.

RSGI hands the pseudo-header over as `scope.authority` only, where ASGI servers add
it to the headers as `host`; `with_authority` makes both interfaces look the same.
"""

from __future__ import annotations

from typing import Any

__all__ = ["with_authority"]


class _HeadersWithHost:
    """An RSGI request's headers with `host` added (the HTTP/2 `:authority`)."""

    __slots__ = ("_headers", "_host")

    def __init__(self, headers: Any, host: str) -> None:
        self._headers = headers
        self._host = host

    def __contains__(self, key: object) -> bool:
        return key == "host" or key in self._headers

    def keys(self) -> list[str]:
        return ["host", *self._headers.keys()]

    def values(self) -> list[str]:
        return [self._host, *self._headers.values()]

    def items(self) -> list[tuple[str, str]]:
        return [("host", self._host), *self._headers.items()]

    def get(self, key: str, default: Any = None) -> Any:
        return self._host if key == "host" else self._headers.get(key, default)

    def get_all(self, key: str) -> list[str]:
        return [self._host] if key == "host" else self._headers.get_all(key)


class _AuthorityScope:
    """An RSGI scope whose headers carry its `:authority` as `host` (see `with_authority`)."""

    __slots__ = ("_scope", "headers")

    def __init__(self, scope: Any, authority: str) -> None:
        self._scope = scope
        self.headers = _HeadersWithHost(scope.headers, authority)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._scope, name)


def with_authority(scope: Any) -> Any:
    """Return the RSGI scope, with a `host` header made of `:authority` when it has none.

    HTTP/2 and HTTP/3 carry the host in the `:authority` pseudo-header, which RSGI gives
    as `scope.authority` (Granian's ASGI adds it to the headers as `host`, as HTTP/1.1
    clients send it). URLs, the allowed hosts, CSRF's origin check and every other
    reader of `Host` see it the same way on both interfaces. An HTTP/1.1 request, or one
    that has a `host` header, is returned as it is.
    """
    authority = getattr(scope, "authority", None)
    if not authority or scope.http_version in ("1.1", "1") or "host" in scope.headers:
        return scope
    return _AuthorityScope(scope, authority)
