"""`fastapi.security.utils`: `get_authorization_scheme_param`."""

from __future__ import annotations


def get_authorization_scheme_param(authorization: str | None) -> tuple[str, str]:
    """Split an `Authorization` header value into its scheme and parameter."""
    if not authorization:
        return "", ""
    scheme, _, param = authorization.partition(" ")
    return scheme, param.strip()


__all__ = [
    "get_authorization_scheme_param",
]
