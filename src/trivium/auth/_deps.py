"""Dependencies that guard routes: who the user must be, what they must be allowed to do.

Each guard reads `request.user` and `request.auth` (set by the authentication
middleware) and raises 401 with a `WWW-Authenticate` challenge when the request has no
user, or 403 when the user is known but not allowed. Every guard carries
`__openapi_security__`, so routes that use one list the OAuth2 password scheme (the
Swagger UI Authorize button) among their security requirements, and
`__openapi_responses__`, so those routes document the 401 and 403 the guard answers.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Annotated
from typing import Any
from urllib.parse import quote

from trivium.auth._anonymous import AuthInfo
from trivium.auth._auth import Auth
from trivium.auth._auth import not_authenticated
from trivium.di import Depends
from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.http import HTMLResponse
from trivium.http import Request
from trivium.http import Response
from trivium.openapi import SecurityRequirement

__all__ = [
    "HTTP_ERROR_REF",
    "SCHEME_NAME",
    "AccountUser",
    "CurrentUser",
    "Guard",
    "LoginRequired",
    "ObjectPermissionGuard",
    "OptionalUser",
    "PageForbidden",
    "account_user",
    "api_token_scheme",
    "current_user",
    "error_response",
    "full_rights",
    "get_auth",
    "login_required",
    "oauth2_scheme",
    "optional_user",
    "page_forbidden_handler",
    "require_object_permission",
    "require_permission",
    "require_scopes",
    "require_staff",
    "require_superuser",
    "require_user",
    "scoped_token_refused",
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
_LOGIN_REDIRECT = {
    "description": "Not logged in: sent to the login page",
    "headers": {
        "Location": {"description": "The login page, with ?next=", "schema": {"type": "string"}}
    },
}


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


_NOT_ALLOWED = "You do not have permission to perform this action"


class PageForbidden(HTTPException):
    """The 403 of a page guard: answered with an HTML page, not JSON.

    The app's 403 handler wins (`Templates.init_app(app, error_pages=True)` renders
    `errors/403.html`); otherwise `page_forbidden_handler`, which `Auth` installs, answers
    a plain HTML page.
    """

    def __init__(self, detail: str = _NOT_ALLOWED) -> None:
        super().__init__(403, detail)


def page_forbidden_handler(request: Request, exc: Exception) -> Response:
    """Answer a `PageForbidden` with a minimal HTML 403 page."""
    del request
    detail = html.escape(str(getattr(exc, "detail", _NOT_ALLOWED)))
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>403 Forbidden</title>"
        f"<h1>Forbidden</h1><p>{detail}</p></html>"
    )
    return HTMLResponse(body, 403)


def _forbidden(page: bool = False, detail: str = _NOT_ALLOWED) -> HTTPException:
    return PageForbidden(detail) if page else HTTPException(403, detail)


def _to_login(request: Request) -> HTTPException:
    """Return the 303 sending an anonymous visitor to the login page, back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    login = request.scope.get("root_path", "") + get_auth(request).login_url
    location = f"{login}?next={quote(target, safe='/')}" if _local_path(target) else login
    return HTTPException(303, "Log in to see this page", headers={"Location": location})


def _local_path(target: str) -> bool:
    """Whether `target` is a local path (`/x`), never `//host` or a URL elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    return len(target) <= 2000 and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)


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

    __slots__ = ("codenames", "flag", "label", "optional", "page", "scopes")

    def __init__(  # noqa: PLR0913 - keyword-only fields of one guard
        self,
        label: str,
        *,
        flag: str | None = None,
        codenames: Sequence[str] = (),
        scopes: Sequence[str] = (),
        optional: bool = False,
        page: bool = False,
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
        self.page = page
        """A guard for HTML pages: anonymous visitors are redirected (303) to the login
        page with `?next=`, refusals are an HTML 403 (`PageForbidden`)."""

    def __repr__(self) -> str:
        return f"Guard({self.label}{', page' if self.page else ''})"

    def for_pages(self) -> Guard:
        """Return this guard for HTML pages: a login redirect and an HTML 403 instead of JSON.

        `Depends(require_staff.for_pages())`; `login_required` is `current_user.for_pages()`.
        """
        return Guard(
            self.label,
            flag=self.flag,
            codenames=self.codenames,
            scopes=tuple(self.scopes),
            optional=self.optional,
            page=True,
        )

    @property
    def __openapi_security__(self) -> SecurityRequirement:
        """The OAuth2 requirement (with this guard's scopes) shown on the operations."""
        return security_requirement(sorted(self.scopes), optional=self.optional)

    @property
    def __openapi_responses__(self) -> dict[int, dict[str, Any]]:
        """The answers this guard can give instead of the route: 401, and 403 if it checks rights."""
        if self.optional:
            return {}
        first = {303: _LOGIN_REDIRECT} if self.page else {401: NOT_AUTHENTICATED}
        if self.flag is None and not self.codenames and not self.scopes:
            return first
        return {**first, 403: FORBIDDEN}

    async def __call__(self, request: Request) -> Any:
        """Return the user, or raise 401 (no user) or 403 (not allowed).

        A page guard (`for_pages()`) raises a 303 to the login page instead of the 401,
        and a `PageForbidden` (HTML) instead of the 403.
        """
        if self.optional:
            return request.user
        if self.page and not getattr(request.user, "is_authenticated", False):
            raise _to_login(request)
        user = _authenticated(request)
        if self.flag is not None and not getattr(user, self.flag, False):
            raise _forbidden(self.page)
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
                    raise _forbidden(self.page)
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

login_required = current_user.for_pages()
"""The logged-in user, for HTML pages: anonymous visitors are sent to the login page (303)
with `?next=` set to where they were going (a local path only)."""


def full_rights(info: AuthInfo | None) -> bool:
    """Whether the credential acts with the user's full rights: a session, or a token without scopes.

    A token (API token or JWT) with scopes grants only them.
    """
    return info is None or not info.scopes


def scoped_token_refused() -> HTTPException:
    """Return the 403 of an account view called with a token limited to scopes."""
    return HTTPException(
        403,
        "A token with scopes cannot manage the account; use a session or a token without scopes",
        headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
    )


class _AccountGuard(Guard):
    """The user acting with full rights (`full_rights`): 401 anonymous, 403 a scoped token."""

    __slots__ = ()

    @property
    def __openapi_responses__(self) -> dict[int, dict[str, Any]]:
        """401 for anonymous requests, 403 for a token limited to scopes."""
        return {401: NOT_AUTHENTICATED, 403: FORBIDDEN}

    async def __call__(self, request: Request) -> Any:
        """Return the user, or raise 401 (no user) or 403 (a token with scopes)."""
        user = await super().__call__(request)
        if not full_rights(request.auth):
            raise scoped_token_refused()
        return user


account_user = _AccountGuard("account_user")
"""The user managing their account: a session or a token without scopes (403 otherwise)."""

AccountUser = Annotated[Any, Depends(account_user)]
"""`user: AccountUser` on the views that manage the account (see `account_user`)."""
CurrentUser = Annotated[Any, Depends(current_user)]
"""`user: CurrentUser` in a handler: the authenticated user (401 otherwise)."""
OptionalUser = Annotated[Any, Depends(optional_user)]
"""`user: OptionalUser`: the user or the anonymous user."""
LoginRequired = Annotated[Any, Depends(login_required)]
"""`user: LoginRequired` in a page handler: the user, or a redirect to the login page."""


def require_permission(*codenames: str, page: bool = False) -> Guard:
    """Return a guard requiring every permission in `codenames` (403 otherwise).

    Group permissions count, active superusers pass. `page=True` makes it a page guard
    (see `Guard.for_pages`).

    Raises:
        ConfigurationError: no codename given (`auth-guard-args`).
    """
    if not codenames:
        raise ConfigurationError("require_permission() needs a codename", "auth-guard-args")
    return Guard(f"require_permission{codenames!r}", codenames=codenames, page=page)


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

    def __init__(self, codename: str, *, page: bool = False) -> None:
        super().__init__(f"require_object_permission({codename!r})", page=page)
        self.codename = codename
        """The permission checked on each object."""

    def for_pages(self) -> ObjectPermissionGuard:
        """Return this guard for HTML pages (see `Guard.for_pages`)."""
        return ObjectPermissionGuard(self.codename, page=True)

    @property
    def __openapi_responses__(self) -> dict[int, dict[str, Any]]:
        """401 for anonymous requests, 403 when `check(obj)` refuses the object."""
        first = {303: _LOGIN_REDIRECT} if self.page else {401: NOT_AUTHENTICATED}
        return {**first, 403: FORBIDDEN}

    async def __call__(self, request: Request) -> Any:
        """Return the object check for the authenticated user (401 when anonymous)."""
        user = await super().__call__(request)
        auth = get_auth(request)
        codename = self.codename
        page = self.page

        async def check(obj: Any, session: Any = None) -> None:
            if not await auth.has_object_permission(user, codename, obj, session):
                raise _forbidden(page)

        return check


def require_object_permission(codename: str, *, page: bool = False) -> ObjectPermissionGuard:
    """Return a dependency giving `check(obj)`, which raises 403 unless the user may `codename` it.

    The `Auth(object_permission=...)` hook decides (default: the model-level permission).

    ```python
    @app.patch("/posts/{id}")
    async def edit(id: int, check: Annotated[Any, Depends(require_object_permission("blog.change_post"))]):
        post = await load(id)
        await check(post)
    ```
    """
    return ObjectPermissionGuard(codename, page=page)
