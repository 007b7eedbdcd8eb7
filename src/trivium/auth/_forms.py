"""The forms of the auth pages: log in, change or reset a password, sign up.

They are `trivium.forms.Form` models, so each page draws them with labels, ARIA error
links and the CSRF field, and redraws them with the errors and what was typed (never
the passwords). Checks that need the database or the `Auth` (a wrong old password, the
password validators, the two new passwords differing) are added after validation by the
pages with `add_new_password_errors` and `form.add_error`. What a valid form does
(`change_password`, `create_account`) lives here too, as Django keeps
it in its forms' `save()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any

from pydantic import AfterValidator
from pydantic import Field
from pydantic import field_validator

from trivium.auth._identity import check_email
from trivium.auth._identity import check_username
from trivium.auth._identity import has_nul
from trivium.auth._passwords import verify_password
from trivium.auth._validators import DEFAULT_VALIDATORS
from trivium.auth._validators import PasswordValidationError
from trivium.auth._validators import validate_password
from trivium.forms import EmailInput
from trivium.forms import Form
from trivium.forms import PasswordInput
from trivium.forms import TextInput

if TYPE_CHECKING:
    from trivium.auth._auth import Auth
    from trivium.forms import BoundForm
    from trivium.http import Request

__all__ = [
    "LoginForm",
    "PasswordChangeForm",
    "PasswordResetForm",
    "SetPasswordForm",
    "SignupForm",
    "add_new_password_errors",
    "change_password",
    "create_account",
]

_MAX_PASSWORD = 4096


def _refuse_nul(value: str | None) -> str | None:
    """Refuse text holding a NUL, which PostgreSQL cannot take in a query (as Django does)."""
    if value is not None and has_nul(value):
        raise ValueError("Null characters are not allowed.")
    return value


_NoNul = AfterValidator(_refuse_nul)
"""On the fields that reach a query (passwords are hashed, so they may hold a NUL)."""

_Current = Annotated[
    str,
    PasswordInput({"autocomplete": "current-password"}),
    Field(max_length=_MAX_PASSWORD),
]
_New = Annotated[
    str,
    PasswordInput({"autocomplete": "new-password"}),
    Field(title="New password", max_length=_MAX_PASSWORD),
]
_Again = Annotated[
    str,
    PasswordInput({"autocomplete": "new-password"}),
    Field(
        title="New password (again)",
        description="Enter the same password as before, for verification.",
        max_length=_MAX_PASSWORD,
    ),
]
_Email = Annotated[
    str,
    EmailInput({"autocomplete": "email"}),
    Field(title="Email", max_length=254),
    _NoNul,
]


class LoginForm(Form):
    """Log in with a user name or an email address and a password."""

    identifier: Annotated[
        str,
        TextInput({"autocomplete": "username", "autofocus": True}),
        Field(title="Email or user name", max_length=254),
        _NoNul,
    ]
    password: Annotated[_Current, Field(title="Password")]


class PasswordChangeForm(Form):
    """Change one's password: the current one, then the new one twice."""

    old_password: Annotated[_Current, Field(title="Current password")]
    new_password1: _New
    new_password2: _Again


class SetPasswordForm(Form):
    """Choose a new password (from a reset link): twice, to catch typing mistakes."""

    new_password1: _New
    new_password2: _Again


class PasswordResetForm(Form):
    """Ask for a reset link to be emailed."""

    email: _Email


class SignupForm(Form):
    """Create an account: email, optional user name and the password twice."""

    email: _Email
    username: Annotated[
        str | None,
        TextInput({"autocomplete": "username"}),
        Field(title="User name", description="Optional.", min_length=1, max_length=150),
        _NoNul,
    ] = None
    new_password1: Annotated[_New, Field(title="Password")]
    new_password2: Annotated[_Again, Field(title="Password (again)")]

    @field_validator("email")
    @classmethod
    def check_email(cls, value: str) -> str:
        """Refuse text that is not an email address (as the JSON sign-up does)."""
        return check_email(value)

    @field_validator("username")
    @classmethod
    def check_username(cls, value: str | None) -> str | None:
        """Refuse a user name too long (or blank) once normalised (as the JSON sign-up does)."""
        return None if value is None else check_username(value)


def add_new_password_errors(
    form: BoundForm[Any],
    user: Any,
    validators: Sequence[Any] | None,
) -> str | None:
    """Return the new password of a valid `form`, or record why it is refused and return `None`.

    The two entries (`new_password1`, `new_password2`) must match, then pass
    `validators` (trivium.auth's defaults when `None`) for `user` (an object or a
    mapping of its attributes); their messages go on `new_password1`.
    """
    data = form.data
    first: str = data.new_password1
    second: str = data.new_password2
    if first != second:
        form.add_error("new_password2", "The two password fields didn't match.")
        return None
    try:
        validate_password(first, user, validators or DEFAULT_VALIDATORS)
    except PasswordValidationError as exc:
        for message in exc.messages:
            form.add_error("new_password1", message)
        return None
    return first


async def change_password(
    auth: Auth, request: Request, form: BoundForm[PasswordChangeForm]
) -> bool:
    """Change the logged-in user's password from a valid `form`; record errors otherwise.

    This session stays logged in under a new id; the user's other sessions do not.
    """
    async with auth.transaction() as session:
        user = await session.get(auth.user_model, request.user.id)
        if user is None:  # deleted while the request ran
            form.add_error(None, "Your account no longer exists.")
            return False
        matches, _ = await verify_password(form.data.old_password, user.password)
        if not matches:
            form.add_error("old_password", "Your current password was entered incorrectly.")
            return False
        new = add_new_password_errors(form, user, auth.password_validators)
        if new is None:
            return False
        await auth.set_password(session, user, new)
    await auth.update_session_hash(request, user)
    return True


async def create_account(auth: Auth, request: Request, form: BoundForm[SignupForm]) -> bool:
    """Create a plain user (never staff) from a valid `form` and log it in on `request`."""
    from sqlalchemy.exc import IntegrityError

    from trivium.auth._models import create_user
    from trivium.auth._models import identifier_taken

    data = form.data
    attributes = {"email": data.email, "username": data.username}
    password = add_new_password_errors(form, attributes, auth.password_validators)
    if password is None:
        return False
    values = [data.email, data.username]
    try:
        async with auth.transaction() as session:
            taken = await identifier_taken(session, values, model=auth.user_model)
            if not taken:
                user = await create_user(
                    session,
                    email=data.email,
                    username=data.username,
                    password=password,
                    model=auth.user_model,
                )
                await auth.login(request, user, session)
    except IntegrityError:
        taken = True
    if taken:
        form.add_error(None, "An account with this email or user name already exists.")
        return False
    return True
