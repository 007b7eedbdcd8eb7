"""Dependencies that guard routes: who the user must be, what they must be allowed to do.

Each guard reads `request.user` and `request.auth` (set by the authentication
middleware) and raises 401 with a `WWW-Authenticate` challenge when the request has no
user, or 403 when the user is known but not allowed. Every guard carries
`__openapi_security__`, so routes that use one list the OAuth2 password scheme (the
Swagger UI Authorize button) among their security requirements, and
`__openapi_responses__`, so those routes document the 401 and 403 the guard answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Annotated
from typing import Any

from trivium.auth._anonymous import AuthInfo
from trivium.auth._auth import Auth
from trivium.auth._auth import not_authenticated
from trivium.di import Depends
from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.http import Request
from trivium.openapi import SecurityRequirement

__all__ = [
    "HTTP_ERROR_REF",
    "SCHEME_NAME",
    "CurrentUser",
    "Guard",
    "ObjectPermissionGuard",
    "OptionalUser",
    "api_token_scheme",
    "current_user",
    "error_response",
    "get_auth",
    "oauth2_scheme",
    "optional_user",
    "require_object_permission",
    "require_permission",
    "require_scopes",
    "require_staff",
    "require_superuser",
    "require_user",
    "security_requirement",
]

SCHEME_NAME = "TriviumAuth"
"""The name of the OAuth2 password scheme in `components.securitySchemes`."""
HTTP_ERROR_REF = "#/components/schemas/HTTPError"
"""The OpenAPI component of an error body, `{"detail": ...}`."""
_CHALLENGE = {"description": "The authentication challenge", "schema": {"type": "string"}}


def error_response(
    description: str, headers: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """Return an OpenAPI response whose body is `{"detail": ...}`, with `headers` documented."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": HTTP_ERROR_REF}}},
    }
    if headers:
        response["headers"] = {name: dict(header) for name, header in headers.items()}
    return response


NOT_AUTHENTICATED = error_response(
    "Not authenticated, or the credential is invalid", {"WWW-Authenticate": _CHALLENGE}
)
FORBIDDEN = error_response("The user or token is not allowed to do this")


def oauth2_scheme(token_url: str = "/auth/token") -> dict[str, Any]:  # noqa: S107 - a URL
    """Return the OpenAPI object of the auth battery's OAuth2 password scheme.

    `token_url` is where the views answer `POST /token` (`init_app`'s prefix + `/token`);
    the refresh URL sits next to it.
    """
    return {
        "type": "oauth2",
        "flows": {
            "password": {
                "tokenUrl": token_url,
                "refreshUrl": token_url.rsplit("/", 1)[0] + "/refresh",
                "scopes": {},
            }
        },
        "description": "Log in with a user name (or email) and password; a session cookie, an API token (`Token trv_...`) or a JWT (`Bearer ...`) are accepted.",
    }


def api_token_scheme() -> dict[str, Any]:
    """Return the OpenAPI object of the auth battery's scheme when JWT is off: API tokens.

    Without JWT there is no `/token` endpoint for an OAuth2 password flow, so the docs
    page's Authorize button asks for a bearer token instead: an API token (`trv_...`).
    """
    return {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`trv_...`, from `POST /auth/tokens`); a session cookie is accepted too.",
    }


def security_requirement(
    scopes: Sequence[str] = (),
    *,
    optional: bool = False,
    token_url: str = "/auth/token",  # noqa: S107 - a URL
) -> SecurityRequirement:
    """Return the OpenAPI requirement of the auth battery's OAuth2 password scheme.

    The app's document shows the scheme `Auth.init_app` registered (with the token URL
    of its views) in place of this one; `token_url` counts only for apps without it.
    """
    return SecurityRequirement(SCHEME_NAME, oauth2_scheme(token_url), tuple(scopes), optional)


def _forbidden(detail: str = "You do not have permission to perform this action") -> HTTPException:
    return HTTPException(403, detail)


def get_auth(request: Request) -> Auth:
    """Return the app's `Auth` (`request.app.plugin(Auth)`).

    Raises:
        ConfigurationError: the app has no `Auth` (`plugin-not-installed`).
    """
    return request.app.plugin(Auth)


def _authenticated(request: Request) -> Any:
    user = request.user
    if not getattr(user, "is_authenticated", False):
        raise not_authenticated()
    return user


class Guard:
    """A dependency checking the request's user; its value is the user.

    Build one with the `require_*` functions; the class is public for `isinstance` and
    for subclasses with their own `check`.
    """

    __slots__ = ("codenames", "flag", "label", "optional", "scopes")

    def __init__(
        self,
        label: str,
        *,
        flag: str | None = None,
        codenames: Sequence[str] = (),
        scopes: Sequence[str] = (),
        optional: bool = False,
    ) -> None:
        self.label = label
        """What the guard checks, for `repr`."""
        self.flag = flag
        """A user attribute that must be true (`is_staff`, `is_superuser`)."""
        self.codenames = tuple(codenames)
        """Permissions the user must all have."""
        self.scopes = frozenset(scopes)
        """Scopes a token credential must all grant."""
        self.optional = optional
        """Anonymous requests pass (the value is then the anonymous user)."""

    def __repr__(self) -> str:
        return f"Guard({self.label})"

    @property
    def __openapi_security__(self) -> SecurityRequirement:
        """The OAuth2 requirement (with this guard's scopes) shown on the operations."""
        return security_requirement(sorted(self.scopes), optional=self.optional)

    @property
    def __openapi_responses__(self) -> dict[int, dict[str, Any]]:
        """The answers this guard can give instead of the route: 401, and 403 if it checks rights."""
        if self.optional:
            return {}
        if self.flag is None and not self.codenames and not self.scopes:
            return {401: NOT_AUTHENTICATED}
        return {401: NOT_AUTHENTICATED, 403: FORBIDDEN}

    async def __call__(self, request: Request) -> Any:
        """Return the user, or raise 401 (no user) or 403 (not allowed)."""
        if self.optional:
            return request.user
        user = _authenticated(request)
        if self.flag is not None and not getattr(user, self.flag, False):
            raise _forbidden()
        if self.scopes:
            info: AuthInfo | None = request.auth
            if info is not None and not info.has_scopes(self.scopes):
                missing = " ".join(sorted(self.scopes - (info.scopes or frozenset())))
                raise HTTPException(
                    403,
                    f"The token lacks the scope(s): {missing}",
                    headers={
                        "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{missing}"'
                    },
                )
        if self.codenames:
            auth = get_auth(request)
            for codename in self.codenames:
                if not await auth.has_perm(user, codename):
                    raise _forbidden()
        return user


current_user = Guard("current_user")
"""The authenticated user; 401 for anonymous requests."""
require_user = current_user
"""Alias of `current_user` for `dependencies=[Depends(require_user)]`."""
optional_user = Guard("optional_user", optional=True)
"""The user, authenticated or anonymous (never raises)."""
require_staff = Guard("require_staff", flag="is_staff")
"""The authenticated user, who must be staff (403 otherwise)."""
require_superuser = Guard("require_superuser", flag="is_superuser")
"""The authenticated user, who must be a superuser (403 otherwise)."""

CurrentUser = Annotated[Any, Depends(current_user)]
"""`user: CurrentUser` in a handler: the authenticated user (401 otherwise)."""
OptionalUser = Annotated[Any, Depends(optional_user)]
"""`user: OptionalUser`: the user or the anonymous user."""


def require_permission(*codenames: str) -> Guard:
    """Return a guard requiring every permission in `codenames` (403 otherwise).

    Group permissions count, active superusers pass.

    Raises:
        ConfigurationError: no codename given (`auth-guard-args`).
    """
    if not codenames:
        raise ConfigurationError("require_permission() needs a codename", "auth-guard-args")
    return Guard(f"require_permission{codenames!r}", codenames=codenames)


def require_scopes(*scopes: str) -> Guard:
    """Return a guard requiring a token granting every one of `scopes` (403 otherwise).

    Scopes restrict API tokens and JWTs; a session-authenticated request acts with the
    user's full rights and passes.

    Raises:
        ConfigurationError: no scope given (`auth-guard-args`).
    """
    if not scopes:
        raise ConfigurationError("require_scopes() needs a scope", "auth-guard-args")
    return Guard(f"require_scopes{scopes!r}", scopes=scopes)


class ObjectPermissionGuard(Guard):
    """A guard whose value is `check(obj, session=None)`, raising 403 for a refused object."""

    __slots__ = ("codename",)

    def __init__(self, codename: str) -> None:
        super().__init__(f"require_object_permission({codename!r})")
        self.codename = codename
        """The permission checked on each object."""

    @property
    def __openapi_responses__(self) -> dict[int, dict[str, Any]]:
        """401 for anonymous requests, 403 when `check(obj)` refuses the object."""
        return {401: NOT_AUTHENTICATED, 403: FORBIDDEN}

    async def __call__(self, request: Request) -> Any:
        """Return the object check for the authenticated user (401 when anonymous)."""
        user = await super().__call__(request)
        auth = get_auth(request)
        codename = self.codename

        async def check(obj: Any, session: Any = None) -> None:
            if not await auth.has_object_permission(user, codename, obj, session):
                raise _forbidden()

        return check


def require_object_permission(codename: str) -> ObjectPermissionGuard:
    """Return a dependency giving `check(obj)`, which raises 403 unless the user may `codename` it.

    The `Auth(object_permission=...)` hook decides (default: the model-level permission).

    ```python
    @app.patch("/posts/{id}")
    async def edit(id: int, check: Annotated[Any, Depends(require_object_permission("blog.change_post"))]):
        post = await load(id)
        await check(post)
    ```
    """
    return ObjectPermissionGuard(codename)
