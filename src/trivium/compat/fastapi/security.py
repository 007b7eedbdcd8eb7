"""`fastapi.security` on trivium: the security schemes of `trivium.openapi`."""

from __future__ import annotations

from trivium.openapi import APIKeyCookie
from trivium.openapi import APIKeyHeader
from trivium.openapi import APIKeyQuery
from trivium.openapi import HTTPAuthorizationCredentials
from trivium.openapi import HTTPBasic
from trivium.openapi import HTTPBasicCredentials
from trivium.openapi import HTTPBearer
from trivium.openapi import OAuth2PasswordBearer
from trivium.openapi import OAuth2PasswordRequestForm

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
]
