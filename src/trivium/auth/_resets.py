"""Password reset tokens: signed, expiring and single-use, with nothing stored server-side.

The token is an itsdangerous timed signature over the user id and a digest of the
user's password hash and last login. Setting a new password (or logging in) changes
that digest, so a used token no longer verifies: single use without a table. Of
concurrent requests with one token, the one whose conditional `UPDATE` of the user's row
comes first wins; the others find the password changed and are refused.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from typing import Any

from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from trivium.auth._mail import build_message
from trivium.auth._models import get_user_by_identifier

if TYPE_CHECKING:
    from trivium.auth._auth import Auth

__all__ = ["check_reset_token", "make_reset_token", "reset_link", "send_reset_email"]

_SALT = "trivium.auth.password-reset"


def _serializer(auth: Auth) -> URLSafeTimedSerializer:
    # Oldest to newest: links mailed before a key rotation keep working; new ones use the new key.
    keys = [*auth.fallback_secret_keys, auth.secret_key]
    return URLSafeTimedSerializer(keys, salt=_SALT)


def _state(user: Any) -> str:
    login = user.last_login.isoformat() if user.last_login else ""
    return hashlib.sha256(f"{user.password}|{login}".encode()).hexdigest()[:32]


def make_reset_token(auth: Auth, user: Any) -> str:
    """Return a reset token for `user`, valid for `auth.reset_max_age` seconds, once."""
    return _serializer(auth).dumps({"u": user.id, "s": _state(user)})


async def check_reset_token(
    auth: Auth, session: AsyncSession, token: str, *, claim: bool = False
) -> Any:
    """Return the active user `token` was made for, or `None` if it is bad, old or used.

    With `claim` (before setting the password), the user's row is also locked until
    `session` commits, and a token another request used meanwhile is refused.
    """
    try:
        data = _serializer(auth).loads(token, max_age=auth.reset_max_age)
    except BadData:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = await session.get(auth.user_model, data["u"])
    if user is None or not user.is_active or data.get("s") != _state(user):
        return None
    if claim and not await _claim(session, auth.user_model, user):
        return None
    return user


async def _claim(session: AsyncSession, model: Any, user: Any) -> bool:
    """Lock `user`'s row if its password is still the one read; say whether it is.

    A write of the unchanged value: it waits for a concurrent reset's commit, and then
    (the hash changed) matches no row, on every database.
    """
    result = await session.execute(
        update(model)
        .where(model.id == user.id, model.password == user.password)
        .values(password=user.password)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def reset_link(auth: Auth, base: str | None) -> str | None:
    """Return the reset link template (`{token}`) of the JSON views, or `None` if none is safe.

    An absolute `reset_url` is used as it is, a path is joined to `base` (the site URL
    or the checked request host), and without `reset_url` the mail carries the bare token.
    """
    template = auth.reset_url
    if template is None:
        return "{token}"
    if template.startswith("/"):
        return None if base is None else base + template
    return template


async def send_reset_email(auth: Auth, email: str, template: str | None = "{token}") -> None:
    """Email a reset link to the active user with this address, if there is one.

    `template` is the link with `{token}` in it (see `reset_link`); `None` sends nothing.
    """
    if "@" not in email or template is None:
        return
    async with auth.db.sessionmaker() as session:
        user = await get_user_by_identifier(session, email, model=auth.user_model)
    if user is None or not user.is_active or not user.email:
        return
    token = make_reset_token(auth, user)
    link = template.replace("{token}", token)
    body = (
        "Someone asked to reset the password of your account.\n\n"
        f"Use this link (or token) within {auth.reset_max_age // 60} minutes:\n{link}\n\n"
        "If it was not you, ignore this email."
    )
    message = build_message(
        to=user.email,
        subject="Reset your password",
        body=body,
        sender=auth.mail_from,
        secrets=[token],
    )
    await auth.mail.send(message)
