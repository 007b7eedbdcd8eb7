"""The bodies the auth views read and answer, and the OpenAPI entries of their errors.

Request models refuse unknown fields (`extra="forbid"`), so nobody sets a flag such as
`is_staff` by sending it. Response models document (and filter) what the views answer;
the views return plain dicts, which the route's `response_model` validates. Two views,
`POST /login` and `POST /refresh`, read JSON or a form themselves, so their request
body and their 400, 413 and 415 answers are documented here instead of by the core.
"""

from __future__ import annotations

from typing import Annotated
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import field_validator

from trivium.auth._deps import error_response
from trivium.auth._identity import NO_NUL
from trivium.auth._identity import check_email
from trivium.auth._identity import check_username
from trivium.params import Secret

__all__ = [
    "BODY_ERRORS",
    "CONFLICT",
    "THROTTLED",
    "VALIDATION_ERROR",
    "APITokenOut",
    "CSRFTokenOut",
    "LoginIn",
    "LogoutIn",
    "MeUpdate",
    "MessageOut",
    "NewAPITokenOut",
    "PasswordChange",
    "RefreshIn",
    "ResetConfirm",
    "ResetRequest",
    "SignupIn",
    "TokenIn",
    "TokenPairOut",
    "UserOut",
    "json_or_form_body",
]

_STRICT = ConfigDict(extra="forbid", str_max_length=4096)
_Password = Annotated[str, Secret()]
"""A password (or reset token): a 422 about it never echoes the value."""
_Text = Annotated[str, Field(pattern=NO_NUL)]
"""Text that may reach a query: without NUL, which PostgreSQL refuses (422 instead of 500)."""
_BODY_MEDIA_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


class LoginIn(BaseModel):
    """Credentials for `POST /login`."""

    model_config = _STRICT
    identifier: _Text = Field(min_length=1, max_length=254)
    password: _Password = Field(min_length=1, max_length=4096)


class LogoutIn(BaseModel):
    """Optional body of `POST /logout`: the refresh token a JWT client gives up."""

    model_config = _STRICT
    refresh_token: _Password | None = Field(default=None, max_length=4096)


class MeUpdate(BaseModel):
    """The fields a user may change on themselves (anything else is refused)."""

    model_config = _STRICT
    username: _Text | None = Field(default=None, min_length=1, max_length=150)

    @field_validator("username")
    @classmethod
    def _valid_username(cls, value: str | None) -> str | None:
        """Refuse a user name too long (or blank) once normalised, which NFKC can make it."""
        return None if value is None else check_username(value)


class PasswordChange(BaseModel):
    """Body of `POST /password/change`."""

    model_config = _STRICT
    old_password: _Password
    new_password: _Password


class ResetRequest(BaseModel):
    """Body of `POST /password/reset`."""

    model_config = _STRICT
    email: _Text = Field(max_length=254)


class ResetConfirm(BaseModel):
    """Body of `POST /password/reset/confirm`."""

    model_config = _STRICT
    token: _Password = Field(max_length=1024)
    new_password: _Password


class SignupIn(BaseModel):
    """Body of `POST /signup`: no flags, so nobody signs up as staff."""

    model_config = _STRICT
    email: _Text = Field(max_length=254, json_schema_extra={"format": "email"})
    username: _Text | None = Field(default=None, min_length=1, max_length=150)
    password: _Password

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        """Refuse anything but an email address (no DNS lookup), normalised."""
        return check_email(value)

    @field_validator("username")
    @classmethod
    def _valid_username(cls, value: str | None) -> str | None:
        """Refuse a user name too long (or blank) once normalised, which NFKC can make it."""
        return None if value is None else check_username(value)


class TokenIn(BaseModel):
    """Body of `POST /tokens`."""

    model_config = _STRICT
    name: _Text = Field(min_length=1, max_length=100)
    scopes: list[_Text] = Field(default_factory=list, max_length=50)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class RefreshIn(BaseModel):
    """Body of `POST /refresh`."""

    model_config = _STRICT
    refresh_token: _Password = Field(max_length=4096)


class UserOut(BaseModel):
    """A user as the views show it (never the password hash)."""

    id: int
    username: str | None
    email: str | None
    is_active: bool
    is_staff: bool
    is_superuser: bool
    last_login: str | None = Field(description="ISO 8601 time of the last login")
    date_joined: str | None = Field(description="ISO 8601 time the account was created")


class CSRFTokenOut(BaseModel):
    """The answer of `GET /csrf`."""

    csrf_token: str = Field(
        description="Send it as `X-CSRF-Token` with cookie-authenticated writes"
    )


class MessageOut(BaseModel):
    """A one-line confirmation (`{"detail": "Password changed"}`)."""

    detail: str


class APITokenOut(BaseModel):
    """An API token as listed: its prefix identifies it, the secret is never shown again."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: str | None
    expires_at: str | None
    last_used_at: str | None


class NewAPITokenOut(APITokenOut):
    """A token just created, with its key (`trv_...`), shown this once."""

    token: str


class TokenPairOut(BaseModel):
    """The OAuth2 token response: an access JWT and its refresh token."""

    access_token: str
    token_type: Literal["bearer"]
    refresh_token: str
    expires_in: int = Field(description="Seconds the access token stays valid")


_RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "string"}}
THROTTLED = error_response("Too many login attempts", {"Retry-After": _RETRY_AFTER})
"""The 429 of the views that check passwords."""
CONFLICT = error_response("A user with that email or user name already exists")
"""The 409 of the views that set a user name or an email."""
VALIDATION_ERROR: dict[str, Any] = {
    "description": "Validation Error",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    },
}
"""The 422 of a view that validates a body it read itself."""
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_response("Malformed request body (bad JSON, or not a JSON object)"),
    413: error_response("Request body too large"),
    415: error_response("Unsupported media type: send JSON or a form"),
    422: VALIDATION_ERROR,
}
"""The answers of a view reading a JSON or form body itself (`read_body`)."""


def json_or_form_body(model: type[BaseModel]) -> dict[str, Any]:
    """Return `openapi_extra` documenting `model` as a JSON, urlencoded or multipart body."""
    schema = model.model_json_schema()
    content = {media: {"schema": schema} for media in _BODY_MEDIA_TYPES}
    return {"requestBody": {"required": True, "content": content}}
