"""The JSON views of `Auth.router()`: login, logout, me, passwords, signup, tokens, JWTs.

Every failure is a JSON error: 400 for bad input or credentials on the token endpoint,
401 for wrong credentials (one generic message, so user names cannot be probed), 403
for missing rights, 422 for validation, 429 with `Retry-After` when throttled. Each
route declares every answer it can give (its `responses=`, its guards' 401 and 403, and
the core's 400/413/415/422 for bodies it reads), so the OpenAPI document is complete.
Handlers open their own transaction on `auth.db`, so the views work with any session setup.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any
from typing import TypeVar

from pydantic import BaseModel
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from trivium.auth._auth import Auth
from trivium.auth._deps import AccountUser
from trivium.auth._deps import CurrentUser
from trivium.auth._deps import error_response
from trivium.auth._deps import full_rights
from trivium.auth._deps import scoped_token_refused
from trivium.auth._identity import has_nul
from trivium.auth._jwt import InvalidTokenError
from trivium.auth._passwords import verify_password
from trivium.auth._resets import check_reset_token
from trivium.auth._resets import reset_link
from trivium.auth._resets import send_reset_email
from trivium.auth._schemas import BODY_ERRORS
from trivium.auth._schemas import CONFLICT
from trivium.auth._schemas import THROTTLED
from trivium.auth._schemas import APITokenOut
from trivium.auth._schemas import CSRFTokenOut
from trivium.auth._schemas import LoginIn
from trivium.auth._schemas import LogoutIn
from trivium.auth._schemas import MessageOut
from trivium.auth._schemas import MeUpdate
from trivium.auth._schemas import NewAPITokenOut
from trivium.auth._schemas import PasswordChange
from trivium.auth._schemas import RefreshIn
from trivium.auth._schemas import ResetConfirm
from trivium.auth._schemas import ResetRequest
from trivium.auth._schemas import SignupIn
from trivium.auth._schemas import TokenIn
from trivium.auth._schemas import TokenPairOut
from trivium.auth._schemas import UserOut
from trivium.auth._schemas import json_or_form_body
from trivium.auth._throttling import throttle_login
from trivium.auth._tokens import create_token
from trivium.auth._tokens import list_tokens
from trivium.auth._tokens import revoke_token
from trivium.auth._validators import PasswordValidationError
from trivium.background import BackgroundTasks
from trivium.db import utcnow
from trivium.di import Depends
from trivium.errors import HTTPException
from trivium.errors import RequestValidationError
from trivium.http import Request
from trivium.http import Response
from trivium.openapi import OAuth2PasswordRequestForm
from trivium.params import redact_secret_inputs
from trivium.routing import Router

if TYPE_CHECKING:
    from trivium.auth._anonymous import AuthInfo
    from trivium.auth._models import APIToken

__all__ = ["build_router", "user_data"]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
PasswordForm = Annotated[OAuth2PasswordRequestForm, Depends()]
_TAKEN = "A user with that email or user name already exists"


def user_data(user: Any) -> dict[str, Any]:
    """Return the public fields of `user` as a JSON-ready dict."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "date_joined": user.date_joined.isoformat() if user.date_joined else None,
    }


def _token_data(token: APIToken) -> dict[str, Any]:
    def iso(value: datetime.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": list(token.scopes or ()),
        "created_at": iso(token.created_at),
        "expires_at": iso(token.expires_at),
        "last_used_at": iso(token.last_used_at),
    }


async def read_body(request: Request) -> dict[str, Any]:
    """Return a JSON object or form body as a dict (400/415 otherwise), without a CSRF field."""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        data = await request.json()
        if not isinstance(data, dict):
            raise HTTPException(400, "Expected a JSON object")
        return data
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        # The CSRF middleware has already checked the form's token; it is not a field.
        from trivium.csrf import csrf_field_name

        token_field = csrf_field_name(request)
        return {
            key: value
            for key, value in form.items()
            if isinstance(value, str) and key != token_field
        }
    raise HTTPException(415, "Send JSON or a form")


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate the body `data` with `model`, raising the usual 422 on failure.

    Error locations start with their source, `body`, as the core's do (`["body", "email"]`).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [dict(e) for e in exc.errors(include_url=False, include_context=False)]
        # Passwords and tokens are never echoed back (`Secret` fields).
        redacted = redact_secret_inputs(errors, model)
        for error in redacted:
            error["loc"] = ["body", *error["loc"]]
        raise RequestValidationError(redacted) from None


def check_new_password(auth: Auth, password: str, user: Any, field: str = "new_password") -> None:
    """Raise 422 with the validators' messages, at the body's `field`, unless `password` passes."""
    from trivium.auth._validators import DEFAULT_VALIDATORS
    from trivium.auth._validators import validate_password

    try:
        validate_password(password, user, auth.password_validators or DEFAULT_VALIDATORS)
    except PasswordValidationError as exc:
        errors = [
            {"type": "password", "loc": ["body", field], "msg": m, "input": None}
            for m in exc.messages
        ]
        raise RequestValidationError(errors) from None


def _optional(extra: dict[str, Any]) -> dict[str, Any]:
    extra["requestBody"]["required"] = False
    return extra


def build_router(auth: Auth, prefix: str) -> Router:
    """Return the auth views under `prefix` (see the module docstring)."""
    router = Router(prefix=prefix, tags=["auth"])
    _session_routes(router, auth)
    _password_routes(router, auth)
    _token_routes(router, auth)
    if auth.jwt is not None:
        _jwt_routes(router, auth)
    return router


def _session_routes(router: Router, auth: Auth) -> None:
    @router.post(
        "/login",
        response_model=UserOut,
        responses={
            401: error_response("Wrong credentials, or an inactive user"),
            429: THROTTLED,
            **BODY_ERRORS,
        },
        openapi_extra=json_or_form_body(LoginIn),
    )
    async def login(request: Request) -> dict[str, Any]:
        """Log in with a user name or email and a password (JSON or form); sets the session."""
        body = parse(LoginIn, await read_body(request))
        await throttle_login(auth, request, body.identifier)
        async with auth.transaction() as session:
            user = await auth.authenticate(session, body.identifier, body.password)
            if user is None:
                # Every 401 carries a challenge (RFC 9110); this one, the guards' scheme.
                raise HTTPException(
                    401, "Invalid credentials", headers={"WWW-Authenticate": "Bearer"}
                )
            await auth.login(request, user, session)
        await auth.reset_login_throttle(body.identifier)
        return user_data(user)

    @router.post(
        "/logout",
        status_code=204,
        response_description="Logged out",
        responses=BODY_ERRORS,
        openapi_extra=_optional(json_or_form_body(LogoutIn)),
    )
    async def logout(request: Request) -> Response:
        """Log out: the session is emptied and its id dropped.

        A JWT client sends its refresh token (`{"refresh_token": ...}`, JSON or form) to
        revoke it, and every token rotated from it, at once.
        """
        refresh_token = None
        if request.headers.get("content-type"):
            refresh_token = parse(LogoutIn, await read_body(request)).refresh_token
        await auth.logout(request, refresh_token)
        return Response(status_code=204)

    auth.exchanges.update((login, logout))

    @router.get("/csrf", response_model=CSRFTokenOut)
    async def csrf(request: Request) -> dict[str, str]:
        """Return a CSRF token to send as `X-CSRF-Token` with cookie-authenticated writes."""
        from trivium.csrf import get_csrf_token

        return {"csrf_token": get_csrf_token(request)}

    @router.get("/me", response_model=UserOut)
    async def me(user: CurrentUser) -> dict[str, Any]:
        """Return the logged-in user."""
        return user_data(user)

    @router.patch("/me", response_model=UserOut, responses={409: CONFLICT})
    async def update_me(user: AccountUser, changes: MeUpdate) -> dict[str, Any]:
        """Change the user's own profile (user name only: flags cannot be set here).

        A session or a token without scopes only: a token with scopes gets 403.
        """
        async with auth.transaction() as session:
            row = await _reload(session, auth, user)
            if changes.username is not None:
                await _check_free(session, auth, [changes.username], row.id)
                row.username = changes.username
            await _flush_unique(session)
        return user_data(row)

    if auth.signup:

        @router.post("/signup", status_code=201, response_model=UserOut, responses={409: CONFLICT})
        async def signup(request: Request, body: SignupIn) -> dict[str, Any]:
            """Create an account (never staff) and log it in."""
            from trivium.auth._models import create_user

            attributes = {"email": body.email, "username": body.username}
            check_new_password(auth, body.password, attributes, "password")
            async with auth.transaction() as session:
                await _check_free(session, auth, [body.email, body.username])
                user = await _unique(
                    create_user(
                        session,
                        email=body.email,
                        username=body.username,
                        password=body.password,
                        model=auth.user_model,
                    )
                )
                await auth.login(request, user, session)
            return user_data(user)

        auth.exchanges.add(signup)


async def _reload(session: AsyncSession, auth: Auth, user: Any) -> Any:
    row = await session.get(auth.user_model, user.id)
    if row is None:  # deleted while the request ran
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    return row


async def _check_free(
    session: AsyncSession, auth: Auth, values: list[str | None], user_id: object = None
) -> None:
    """Raise 409 if a value is another user's email or user name (see `identifier_taken`)."""
    from trivium.auth._models import identifier_taken

    if await identifier_taken(session, values, model=auth.user_model, exclude=user_id):
        raise HTTPException(409, _TAKEN)


async def _flush_unique(session: AsyncSession) -> None:
    await _unique(session.flush())


async def _unique(operation: Awaitable[T]) -> T:
    """Await `operation`, turning a unique-constraint failure into 409."""
    from sqlalchemy.exc import IntegrityError

    try:
        return await operation
    except IntegrityError:
        raise HTTPException(409, _TAKEN) from None


def _password_routes(router: Router, auth: Auth) -> None:
    @router.post(
        "/password/change",
        response_model=MessageOut,
        responses={400: error_response("The old password is wrong")},
    )
    async def change_password(
        request: Request, user: AccountUser, body: PasswordChange
    ) -> dict[str, str]:
        """Change the password; other sessions and refresh tokens stop working.

        A session or a token without scopes only: a token with scopes gets 403.
        """
        async with auth.transaction() as session:
            row = await _reload(session, auth, user)
            matches, _ = await verify_password(body.old_password, row.password)
            if not matches:
                raise HTTPException(400, "The old password is wrong")
            check_new_password(auth, body.new_password, row)
            await auth.set_password(session, row, body.new_password)
        if request.auth is not None and request.auth.method == "session":
            await auth.update_session_hash(request, row)
        return {"detail": "Password changed"}

    @router.post("/password/reset", status_code=202, response_model=MessageOut)
    async def reset_password(
        request: Request, body: ResetRequest, background: BackgroundTasks
    ) -> dict[str, str]:
        """Email a reset link if the address belongs to a user (the answer is always 202).

        The lookup and the mail happen after the answer is sent, so neither its content
        nor its timing tells whether the address belongs to an account.
        """
        base = auth.link_base(request) if (auth.reset_url or "").startswith("/") else None
        background.add_task(send_reset_email, auth, body.email, reset_link(auth, base))
        return {"detail": "If the address is known, a reset link was sent"}

    @router.post(
        "/password/reset/confirm",
        response_model=MessageOut,
        responses={403: error_response("The reset token is invalid, used or expired")},
    )
    async def confirm_reset(body: ResetConfirm) -> dict[str, str]:
        """Set a new password with a reset token (each token works once)."""
        async with auth.transaction() as session:
            user = await check_reset_token(auth, session, body.token, claim=True)
            if user is None:
                # 403, as for a wrong CSRF token: a capability that does not verify.
                raise HTTPException(403, "The reset link is invalid or has expired")
            check_new_password(auth, body.new_password, user)
            await auth.set_password(session, user, body.new_password)
        return {"detail": "Password changed"}

    auth.exchanges.update((reset_password, confirm_reset))


def _token_routes(router: Router, auth: Auth) -> None:
    @router.get("/tokens", response_model=list[APITokenOut])
    async def tokens(user: AccountUser) -> list[dict[str, Any]]:
        """List the user's live API tokens (never their secrets).

        A session or a token without scopes only: a token with scopes gets 403.
        """
        async with auth.transaction() as session:
            return [_token_data(t) for t in await list_tokens(session, user.id)]

    @router.post(
        "/tokens",
        status_code=201,
        response_model=NewAPITokenOut,
        responses={
            403: error_response("A token asked for more scopes, or a later expiry, than its own")
        },
    )
    async def new_token(request: Request, user: CurrentUser, body: TokenIn) -> dict[str, Any]:
        """Create an API token; the key is in the answer and never shown again.

        A request authenticated by a token with scopes may only ask for some of those
        scopes (not for none, which is every right), and a token (API token or JWT) that
        expires may not create one that outlives it.
        """
        expires = datetime.timedelta(days=body.expires_in_days) if body.expires_in_days else None
        _check_minting(request.auth, frozenset(body.scopes), expires)
        async with auth.transaction() as session:
            token, key = await create_token(
                session, user.id, body.name, scopes=body.scopes, expires_in=expires
            )
        return {**_token_data(token), "token": key}

    @router.delete(
        "/tokens/{token_id}",
        status_code=204,
        response_description="Revoked",
        responses={
            403: error_response("A token with scopes may only revoke itself"),
            404: error_response("The user has no such live token"),
        },
    )
    async def delete_token(request: Request, token_id: int, user: CurrentUser) -> Response:
        """Revoke one of the user's API tokens (a token with scopes: only itself)."""
        info = request.auth
        itself = info is not None and info.method == "token" and info.token_id == token_id
        if not full_rights(info) and not itself:
            raise scoped_token_refused()
        async with auth.transaction() as session:
            if not await revoke_token(session, user.id, token_id):
                raise HTTPException(404, "No such token")
        return Response(status_code=204)


def _check_minting(
    info: AuthInfo | None, scopes: frozenset[str], expires: datetime.timedelta | None
) -> None:
    """Raise 403 unless the credential of the request may create a token like this.

    A token with scopes creates tokens with some of them (no scopes would be every
    right); a token that expires (an API token, a JWT) creates none that outlives it.
    """
    if info is None:
        return
    if not info.has_scopes(scopes) or (not scopes and not full_rights(info)):
        raise HTTPException(403, "A token cannot create a token with more scopes than its own")
    if info.expires_at is not None:
        if expires is None:
            raise HTTPException(
                403, "A token that expires cannot create a token that never expires"
            )
        if utcnow() + expires > info.expires_at:
            raise HTTPException(403, "A token cannot create a token that outlives it")


def _jwt_routes(router: Router, auth: Auth) -> None:
    jwt = auth.jwt
    assert jwt is not None

    @router.post(
        "/token",
        response_model=TokenPairOut,
        responses={400: error_response("Incorrect username or password"), 429: THROTTLED},
    )
    async def token(request: Request, form: PasswordForm) -> dict[str, Any]:
        """OAuth2 password flow: exchange a user name and password for a token pair."""
        if has_nul(form.username):  # names nobody: wrong credentials, before any store
            raise HTTPException(400, "Incorrect username or password")
        await throttle_login(auth, request, form.username)
        async with auth.transaction() as session:
            user = await auth.authenticate(session, form.username, form.password)
            if user is None:
                raise HTTPException(400, "Incorrect username or password")
            pair = await jwt.issue(session, user.id, form.scopes)
        await auth.reset_login_throttle(form.username)
        return pair.to_dict()

    @router.post(
        "/refresh",
        response_model=TokenPairOut,
        responses={
            401: error_response(
                "The refresh token is invalid, expired or already used",
                {"WWW-Authenticate": {"schema": {"type": "string"}}},
            ),
            **BODY_ERRORS,
        },
        openapi_extra=json_or_form_body(RefreshIn),
    )
    async def refresh(request: Request) -> dict[str, Any]:
        """Exchange a refresh token for a new pair (the old one stops working)."""
        data = await read_body(request)
        body = parse(RefreshIn, {"refresh_token": data.get("refresh_token")})
        async with auth.transaction() as session:
            try:
                _, pair = await jwt.rotate(session, body.refresh_token)
            except InvalidTokenError:
                # Commit what rotate did (revoking a reused token's family), then refuse.
                pair = None
        if pair is None:
            raise HTTPException(
                401,
                "Invalid refresh token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return pair.to_dict()

    auth.exchanges.update((token, refresh))
