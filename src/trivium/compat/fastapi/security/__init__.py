"""`fastapi.security`: the security dependencies and `SecurityScopes`."""

from __future__ import annotations

from trivium.di import SecurityScopes
from trivium.openapi import APIKeyCookie
from trivium.openapi import APIKeyHeader
from trivium.openapi import APIKeyQuery
from trivium.openapi import HTTPAuthorizationCredentials
from trivium.openapi import HTTPBasic
from trivium.openapi import HTTPBasicCredentials
from trivium.openapi import HTTPBearer
from trivium.openapi import HTTPDigest
from trivium.openapi import OAuth2
from trivium.openapi import OAuth2AuthorizationCodeBearer
from trivium.openapi import OAuth2PasswordBearer
from trivium.openapi import OAuth2PasswordRequestForm
from trivium.openapi import OAuth2PasswordRequestFormStrict
from trivium.openapi import OpenIdConnect

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
