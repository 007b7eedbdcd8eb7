"""Security dependencies that read a credential and document their OpenAPI security scheme.

The seam is one attribute: any dependency callable (function, class or instance) whose
`__openapi_security__` is a `SecurityRequirement` (or a `(name, scheme, scopes)` tuple)
adds `scheme` to `components.securitySchemes` under `name` and a security requirement to
every operation that depends on it, directly or through other dependencies. The classes
here are ready-made ones (FastAPI's `fastapi.security` vocabulary); the auth battery
builds on them or sets the attribute on its own dependencies with `security_scheme`.

Each class extracts the credential from the request and, when it is missing, raises 401
with a `WWW-Authenticate` challenge, or returns `None` with `auto_error=False`. None of
them checks the credential: that is the job of the dependency built on top.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Annotated
from typing import Any
from typing import NamedTuple
from typing import TypeVar

from trivium.errors import HTTPException
from trivium.http import Request
from trivium.params import Form
from trivium.params import Secret

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
    "SchemeModel",
    "SecurityBase",
    "SecurityRequirement",
    "security_scheme",
]

F = TypeVar("F", bound=Callable[..., Any])


class SecurityRequirement(NamedTuple):
    """What a security dependency contributes to the OpenAPI document."""

    name: str
    """The key in `components.securitySchemes`."""
    scheme: Mapping[str, Any]
    """The OpenAPI Security Scheme object."""
    scopes: Sequence[str] = ()
    """The OAuth2 scopes (or roles) the operation needs."""
    optional: bool = False
    """The operation also works without the credential (documented with `{}`)."""


def security_scheme(
    name: str, scheme: Mapping[str, Any], scopes: Sequence[str] = (), *, optional: bool = False
) -> Callable[[F], F]:
    """Mark the decorated dependency as requiring the security scheme `scheme` named `name`."""

    def decorator(func: F) -> F:
        func.__openapi_security__ = SecurityRequirement(  # type: ignore[attr-defined]
            name, dict(scheme), tuple(scopes), optional
        )
        return func

    return decorator


def _not_authenticated(challenge: str, detail: str = "Not authenticated") -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


class SchemeModel:
    """A security scheme's OpenAPI object read by attribute (`scheme.model.name`).

    FastAPI exposes the scheme as a pydantic model in `.model`; subclasses of its
    security classes read `self.model.name`, `self.model.in_` or `self.model.flows`.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        key = "in" if name == "in_" else ("type" if name == "type_" else name)
        try:
            return self._data[key]
        except KeyError:
            if name in ("description", "bearerFormat", "openIdConnectUrl"):
                return None
            raise AttributeError(name) from None

    def model_dump(self, **_: Any) -> dict[str, Any]:
        """Return the scheme object as a dict."""
        return dict(self._data)


class SecurityBase:
    """Base of the security dependencies: a scheme name, its OpenAPI object and `auto_error`."""

    scheme: dict[str, Any]
    """The OpenAPI Security Scheme object."""

    def __init__(
        self, *, scheme_name: str | None, description: str | None, auto_error: bool
    ) -> None:
        self.scheme_name = scheme_name or type(self).__name__
        """The key in `components.securitySchemes`."""
        self.description = description
        """Shown in the docs next to the scheme."""
        self.auto_error = auto_error
        """Raise 401 when the credential is missing (else the dependency returns `None`)."""
        self.scopes: tuple[str, ...] = ()
        """Scopes listed in the operations' security requirement."""

    def _scheme(self, scheme: dict[str, Any]) -> dict[str, Any]:
        if self.description:
            scheme["description"] = self.description
        return scheme

    @property
    def model(self) -> SchemeModel:
        """The OpenAPI scheme object by attribute (`self.model.name`), as FastAPI's `.model`."""
        return SchemeModel(self.scheme)

    @property
    def __openapi_security__(self) -> SecurityRequirement:
        """The requirement this dependency adds to the operations that use it."""
        return SecurityRequirement(self.scheme_name, self.scheme, self.scopes, not self.auto_error)

    @property
    def __openapi_responses__(self) -> dict[int, dict[str, Any]]:
        """The 401 this dependency answers when the credential is missing (with `auto_error`)."""
        if not self.auto_error:
            return {}
        return {
            401: {
                "description": "Not authenticated",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/HTTPError"}}
                },
            }
        }


def _bearer_token(request: Request) -> str | None:
    authorization: str | None = request.headers.get("authorization")
    if not authorization:
        return None
    kind, _, token = authorization.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class OAuth2PasswordBearer(SecurityBase):
    """Read an OAuth2 bearer token obtained with the password flow at `tokenUrl`.

    `token: Annotated[str, Depends(OAuth2PasswordBearer(tokenUrl="/token"))]` gives the
    token sent as `Authorization: Bearer <token>`; Swagger UI's Authorize button asks for
    a user name and password and posts them to `tokenUrl`.
    """

    def __init__(  # noqa: PLR0913 - the parameters FastAPI users know
        self,
        tokenUrl: str,  # noqa: N803 - the OpenAPI spelling FastAPI users know
        *,
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,  # noqa: N803 - the OpenAPI spelling
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        flow: dict[str, Any] = {"tokenUrl": tokenUrl, "scopes": dict(scopes or {})}
        if refreshUrl:
            flow["refreshUrl"] = refreshUrl
        self.scheme = self._scheme({"type": "oauth2", "flows": {"password": flow}})

    async def __call__(self, request: Request) -> str | None:
        """Return the bearer token, or raise 401 (`None` with `auto_error=False`)."""
        token = _bearer_token(request)
        if token is None and self.auto_error:
            raise _not_authenticated("Bearer")
        return token


@dataclasses.dataclass(frozen=True, slots=True)
class HTTPAuthorizationCredentials:
    """The `Authorization` header split into its scheme and credentials."""

    scheme: str
    credentials: str


class HTTPBearer(SecurityBase):
    """Read `Authorization: Bearer <token>` as `HTTPAuthorizationCredentials`."""

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,  # noqa: N803 - the OpenAPI spelling
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        scheme: dict[str, Any] = {"type": "http", "scheme": "bearer"}
        if bearerFormat:
            scheme["bearerFormat"] = bearerFormat
        self.scheme = self._scheme(scheme)

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        """Return the credentials, or raise 401 (`None` with `auto_error=False`)."""
        token = _bearer_token(request)
        if token is None:
            if self.auto_error:
                raise _not_authenticated("Bearer")
            return None
        return HTTPAuthorizationCredentials("Bearer", token)


@dataclasses.dataclass(frozen=True, slots=True)
class HTTPBasicCredentials:
    """A user name and password sent with HTTP Basic authentication."""

    username: str
    password: str


class HTTPBasic(SecurityBase):
    """Read `Authorization: Basic <base64(user:password)>` as `HTTPBasicCredentials`."""

    invalid_detail = "Invalid authentication credentials"
    """The 401's detail when the credentials are not `base64(user:password)`."""

    def __init__(
        self,
        *,
        realm: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.realm = realm
        """Sent in the `WWW-Authenticate` challenge."""
        self.scheme = self._scheme({"type": "http", "scheme": "basic"})

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:
        """Return the credentials, or raise 401 (`None` with `auto_error=False`)."""
        challenge = f'Basic realm="{self.realm}"' if self.realm else "Basic"
        authorization: str = request.headers.get("authorization") or ""
        kind, _, encoded = authorization.partition(" ")
        if not authorization or kind.lower() != "basic":
            if self.auto_error:
                raise _not_authenticated(challenge)
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _not_authenticated(challenge, self.invalid_detail) from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise _not_authenticated(challenge, self.invalid_detail)
        return HTTPBasicCredentials(username, password)


class _APIKey(SecurityBase):
    location = "header"

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.name = name
        """The header, query parameter or cookie that carries the key."""
        self.scheme = self._scheme({"type": "apiKey", "in": self.location, "name": name})

    def _read(self, request: Request) -> str | None:  # pragma: no cover - each subclass reads
        raise NotImplementedError

    async def __call__(self, request: Request) -> str | None:
        """Return the key, or raise 401 (`None` with `auto_error=False`)."""
        value = self._read(request)
        if not value:
            if self.auto_error:
                raise _not_authenticated("APIKey")
            return None
        return value


class APIKeyHeader(_APIKey):
    """Read an API key from the request header `name`."""

    location = "header"

    def _read(self, request: Request) -> str | None:
        value: str | None = request.headers.get(self.name)
        return value


class APIKeyQuery(_APIKey):
    """Read an API key from the query parameter `name`."""

    location = "query"

    def _read(self, request: Request) -> str | None:
        value: str | None = request.query_params.get(self.name)
        return value


class APIKeyCookie(_APIKey):
    """Read an API key (or a session token) from the cookie `name`."""

    location = "cookie"

    def _read(self, request: Request) -> str | None:
        value: str | None = request.cookies.get(self.name)
        return value


_PASSWORD = {"format": "password"}
"""Documents a password field so that Swagger UI masks it."""


class OAuth2PasswordRequestForm:
    """The form posted to an OAuth2 password-flow token endpoint (use with `Depends()`).

    Fields: `username`, `password`, optional `grant_type` (must be `password` when sent),
    `scope` (space-separated, split into `scopes`), `client_id` and `client_secret`.
    """

    def __init__(  # noqa: PLR0913 - the fields of the OAuth2 form
        self,
        *,
        username: Annotated[str, Form()],
        password: Annotated[str, Secret(), Form(json_schema_extra=_PASSWORD)],
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Secret(), Form(json_schema_extra=_PASSWORD)] = None,
    ) -> None:
        self.username = username
        """The user name."""
        self.password = password
        """The password."""
        self.grant_type = grant_type
        """`"password"`, or `None` when the client left it out."""
        self.scopes = scope.split()
        """The requested scopes."""
        self.client_id = client_id
        """The OAuth2 client id, if sent."""
        self.client_secret = client_secret
        """The OAuth2 client secret, if sent."""


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """`OAuth2PasswordRequestForm` whose `grant_type` must be sent (and be `password`)."""

    def __init__(  # noqa: PLR0913 - the fields of the OAuth2 form
        self,
        *,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Secret(), Form(json_schema_extra=_PASSWORD)],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Secret(), Form(json_schema_extra=_PASSWORD)] = None,
    ) -> None:
        super().__init__(
            username=username,
            password=password,
            grant_type=grant_type,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


class OAuth2(SecurityBase):
    """Read an OAuth2 bearer token for the `flows` given (the OpenAPI flows object)."""

    def __init__(
        self,
        *,
        flows: Mapping[str, Any] | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.scheme = self._scheme({"type": "oauth2", "flows": dict(flows or {})})

    async def __call__(self, request: Request) -> str | None:
        """Return the bearer token, or raise 401 (`None` with `auto_error=False`)."""
        token = _bearer_token(request)
        if token is None and self.auto_error:
            raise _not_authenticated("Bearer")
        return token


class OAuth2AuthorizationCodeBearer(OAuth2):
    """Read a bearer token obtained with the OAuth2 authorization-code flow."""

    def __init__(  # noqa: PLR0913 - the parameters FastAPI users know
        self,
        authorizationUrl: str,  # noqa: N803 - the OpenAPI spelling
        tokenUrl: str,  # noqa: N803 - the OpenAPI spelling
        refreshUrl: str | None = None,  # noqa: N803 - the OpenAPI spelling
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        flow: dict[str, Any] = {
            "authorizationUrl": authorizationUrl,
            "tokenUrl": tokenUrl,
            "scopes": dict(scopes or {}),
        }
        if refreshUrl:
            flow["refreshUrl"] = refreshUrl
        super().__init__(
            flows={"authorizationCode": flow},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )


class OpenIdConnect(SecurityBase):
    """Read the `Authorization` header for an OpenID Connect scheme (returned whole)."""

    def __init__(
        self,
        *,
        openIdConnectUrl: str,  # noqa: N803 - the OpenAPI spelling
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.scheme = self._scheme({"type": "openIdConnect", "openIdConnectUrl": openIdConnectUrl})

    async def __call__(self, request: Request) -> str | None:
        """Return the `Authorization` header, or raise 401 (`None` with `auto_error=False`)."""
        authorization: str | None = request.headers.get("authorization")
        if not authorization and self.auto_error:
            raise _not_authenticated("Bearer")
        return authorization or None


class HTTPDigest(SecurityBase):
    """Read `Authorization: Digest ...` as `HTTPAuthorizationCredentials` (not checked)."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.scheme = self._scheme({"type": "http", "scheme": "digest"})

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        """Return the credentials, or raise 401 (`None` with `auto_error=False`)."""
        authorization: str = request.headers.get("authorization") or ""
        kind, _, credentials = authorization.partition(" ")
        if kind.lower() != "digest" or not credentials.strip():
            if self.auto_error:
                raise _not_authenticated("Digest")
            return None
        return HTTPAuthorizationCredentials(kind, credentials.strip())
