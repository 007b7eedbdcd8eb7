"""Share a mounted Django project's logins with trivium routes (see `_login`).

Django keeps a login in its session: the database session backend stores a signed,
possibly compressed JSON document in `django_session.session_data` under the key in the
`sessionid` cookie, holding `_auth_user_id` and `_auth_user_hash` (an HMAC of the user's
password hash, so that a password change logs the user out). `DjangoLogin` reads that
row and the `auth_user` row through a second trivium `Database` pointing at Django's
database, checks both signatures with Django's `SECRET_KEY` the way `django.core.signing`
and `AbstractBaseUser.get_session_auth_hash` compute them, and never writes. Django
itself need not be importable in the trivium process.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import zlib
from typing import TYPE_CHECKING
from typing import Any

import orjson
from sqlalchemy import bindparam
from sqlalchemy import column
from sqlalchemy import select
from sqlalchemy import table

from trivium.errors import ConfigurationError
from trivium.interop._key import LegacyKey
from trivium.interop._login import SharedLogin
from trivium.interop._login import utc_now

if TYPE_CHECKING:
    from collections.abc import Sequence

    from trivium.auth import Auth
    from trivium.db import Database
    from trivium.http import HTTPConnection

__all__ = ["DjangoLogin", "decode_django_session"]

_SESSION_SALT = "django.contrib.sessions.SessionStore"
_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"


class DjangoLogin(SharedLogin):
    """Share a Django project's logins (database session backend, `auth_user`).

    Args:
        auth: the app's `Auth`.
        secret_key: Django's `SECRET_KEY`.
        legacy_db: a `Database` on Django's database (read-only use).
        fallback_keys: Django's `SECRET_KEY_FALLBACKS`.
        match: the trivium user column compared with `identity_column`.
        identity_column: the `auth_user` column holding the identity (`email`, `username`).
        cookie_name: Django's `SESSION_COOKIE_NAME`.
        session_table: Django's session table.
        user_table: Django's user table (a custom user model's table).
    """

    def __init__(  # noqa: PLR0913 - the Django project's own settings, all keyword-only
        self,
        auth: Auth,
        *,
        secret_key: str,
        legacy_db: Database,
        fallback_keys: Sequence[str] = (),
        match: str = "email",
        identity_column: str = "email",
        cookie_name: str = "sessionid",
        session_table: str = "django_session",
        user_table: str = "auth_user",
    ) -> None:
        super().__init__(auth, match=match)
        if not isinstance(secret_key, str) or not secret_key:
            raise ConfigurationError(
                "DjangoLogin(secret_key=...): give the Django project's SECRET_KEY",
                "interop-login",
            )
        self.legacy_db = legacy_db
        self.keys = (secret_key, *fallback_keys)
        self.cookie_name: str = cookie_name
        """Django's session cookie name (`SESSION_COOKIE_NAME`)."""
        sessions = table(
            session_table, column("session_key"), column("session_data"), column("expire_date")
        )
        self._session = legacy_db.prepare(
            select(sessions.c.session_data, sessions.c.expire_date).where(
                sessions.c.session_key == bindparam("key")
            )
        )
        self._key = LegacyKey(legacy_db, user_table, "id")
        users = table(user_table, column("id"), column("password"), column("is_active"))
        users.append_column(column(identity_column))
        self._user = legacy_db.prepare(
            select(users.c.password, users.c.is_active, users.c[identity_column]).where(
                users.c.id == bindparam("user_id")
            )
        )

    async def legacy_identity(self, connection: HTTPConnection) -> str | None:
        """Read the session row, check it, and return the Django user's identity."""
        key = connection.cookies.get(self.cookie_name)
        if not key or len(key) > 40 or not key.isalnum():
            return None
        row = await self._session.first(key=key)
        if row is None or _expired(row[1]):
            return None
        data = decode_django_session(row[0], self.keys)
        if data is None or "_auth_user_id" not in data:
            return None
        user_id = await self._key.value(data["_auth_user_id"])
        if user_id is None:
            return None  # not a value of the key column: no such user
        user = await self._user.first(user_id=user_id)
        if user is None or not user[1]:
            return None
        stored = data.get("_auth_user_hash")
        if not isinstance(stored, str) or not any(
            hmac.compare_digest(stored, _salted_hmac(_HASH_SALT, user[0], k).hexdigest())
            for k in self.keys
        ):
            return None  # the password changed since this login: Django logs out too
        return None if user[2] is None else str(user[2])


def decode_django_session(data: str, keys: Sequence[str]) -> dict[str, Any] | None:
    """Return the session dictionary Django signed with one of `keys`, or `None`.

    The format is `django.core.signing`'s: `payload:timestamp:signature`, the payload
    URL-safe base64 of JSON, zlib-compressed when it starts with a dot. Expiry is the
    session row's `expire_date`, checked by the caller.
    """
    value, sep, signature = data.rpartition(":")
    if not sep:
        return None
    if not any(
        hmac.compare_digest(
            signature, _b64(_salted_hmac(_SESSION_SALT + "signer", value, k).digest())
        )
        for k in keys
    ):
        return None
    payload = value.rpartition(":")[0]
    compressed = payload.startswith(".")
    payload = payload.removeprefix(".")
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        if compressed:
            raw = zlib.decompress(raw)
        decoded = orjson.loads(raw)
    except (ValueError, zlib.error):
        return None
    return decoded if isinstance(decoded, dict) else None


def _salted_hmac(salt: str, value: str, secret: str) -> hmac.HMAC:
    key = hashlib.sha256((salt + secret).encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256)


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _expired(expire_date: Any) -> bool:
    if isinstance(expire_date, str):
        expire_date = datetime.datetime.fromisoformat(expire_date)
    if not isinstance(expire_date, datetime.datetime):
        return True
    if expire_date.tzinfo is None:
        expire_date = expire_date.replace(tzinfo=datetime.UTC)  # Django stores UTC
    return bool(expire_date <= utc_now())
