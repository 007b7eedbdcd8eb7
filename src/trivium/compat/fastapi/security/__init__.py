"""`fastapi.security`: the security dependencies and `SecurityScopes`.

`HTTPBasic` answers malformed credentials with FastAPI's `"Not authenticated"`
(trivium's own says `"Invalid authentication credentials"`).
"""

from __future__ import annotations

from types import ModuleType

from trivium.compat._lazy import submodule
from trivium.di import SecurityScopes
from trivium.openapi import APIKeyCookie
from trivium.openapi import APIKeyHeader
from trivium.openapi import APIKeyQuery
from trivium.openapi import HTTPAuthorizationCredentials
from trivium.openapi import HTTPBasic as _HTTPBasic
from trivium.openapi import HTTPBasicCredentials
from trivium.openapi import HTTPBearer
from trivium.openapi import HTTPDigest
from trivium.openapi import OAuth2
from trivium.openapi import OAuth2AuthorizationCodeBearer
from trivium.openapi import OAuth2PasswordBearer
from trivium.openapi import OAuth2PasswordRequestForm
from trivium.openapi import OAuth2PasswordRequestFormStrict
from trivium.openapi import OpenIdConnect


class HTTPBasic(_HTTPBasic):
    """HTTP Basic credentials, with FastAPI's 401 detail for malformed ones."""

    invalid_detail = "Not authenticated"


__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "OpenIdConnect",
    "SecurityScopes",
]


def __getattr__(name: str) -> ModuleType:
    """Import a submodule (`fastapi.security.utils`) on first access."""
    return submodule(__name__, name)
