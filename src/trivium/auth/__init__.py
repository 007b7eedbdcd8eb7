"""Users, groups, permissions and passwords (Argon2id), on trivium's data layer.

```python
import anyio

from trivium.auth import Group
from trivium.auth import check_password
from trivium.auth import create_user
from trivium.auth import ensure_permissions
from trivium.auth import has_perm
from trivium.auth import validate_password
from trivium.db import Database


async def main() -> None:
    db = Database("sqlite+aiosqlite:///:memory:")
    await db.create_all()
    async with db.sessionmaker() as session:
        validate_password("a long passphrase to remember", {"email": "ada@example.com"})
        ada = await create_user(
            session, email="ada@example.com", password="a long passphrase to remember"
        )
        assert await check_password(ada, "a long passphrase to remember")
        [view, _] = await ensure_permissions(
            session, custom=[("shop.view_order", "Can view order"), ("shop.refund", "Can refund")]
        )
        staff = Group(name="staff", permissions=[view])
        session.add(staff)
        (await ada.awaitable_attrs.groups).append(staff)
        await session.flush()
        assert await has_perm(ada, "shop.view_order", session)
        assert not await has_perm(ada, "shop.refund", session)
        await session.commit()
    await db.dispose()


anyio.run(main)
```

Needs the `db` and `auth` extras (SQLAlchemy, argon2-cffi). The HTML pages
(`pages_router`) also need the `templates` extra (Jinja2), loaded only when they are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from trivium.auth._anonymous import ANONYMOUS
from trivium.auth._anonymous import AnonymousUser
from trivium.auth._anonymous import AuthInfo
from trivium.auth._auth import Auth
from trivium.auth._authn import AuthenticationStep
from trivium.auth._authn import UserReader
from trivium.auth._config import AuthConfig
from trivium.auth._config import LoginThrottle
from trivium.auth._deps import CurrentUser
from trivium.auth._deps import Guard
from trivium.auth._deps import LoginRequired
from trivium.auth._deps import OptionalUser
from trivium.auth._deps import PageForbidden
from trivium.auth._deps import current_user
from trivium.auth._deps import get_auth
from trivium.auth._deps import login_required
from trivium.auth._deps import optional_user
from trivium.auth._deps import require_object_permission
from trivium.auth._deps import require_permission
from trivium.auth._deps import require_scopes
from trivium.auth._deps import require_staff
from trivium.auth._deps import require_superuser
from trivium.auth._deps import require_user
from trivium.auth._identity import username_text_error
from trivium.auth._jwt import InvalidTokenError
from trivium.auth._jwt import JWTConfig
from trivium.auth._jwt import TokenPair
from trivium.auth._mail import ConsoleMailer
from trivium.auth._mail import Mailer
from trivium.auth._mail import MemoryMailer
from trivium.auth._mail import build_message
from trivium.auth._middleware import AuthenticationMiddleware
from trivium.auth._models import PASSWORD_CHANGE_REVOKES
from trivium.auth._models import UNUSABLE_PASSWORD_PREFIX
from trivium.auth._models import AbstractUser
from trivium.auth._models import APIToken
from trivium.auth._models import Group
from trivium.auth._models import Permission
from trivium.auth._models import RefreshToken
from trivium.auth._models import User
from trivium.auth._models import check_password
from trivium.auth._models import create_superuser
from trivium.auth._models import create_user
from trivium.auth._models import get_user_by_identifier
from trivium.auth._models import identifier_taken
from trivium.auth._models import normalize_email
from trivium.auth._models import normalize_username
from trivium.auth._models import set_password
from trivium.auth._models import set_unusable_password
from trivium.auth._passwords import DEFAULT_HASHER
from trivium.auth._passwords import PasswordHasher
from trivium.auth._passwords import dummy_verify
from trivium.auth._passwords import hash_password
from trivium.auth._passwords import verify_password
from trivium.auth._perms import app_label
from trivium.auth._perms import ensure_permissions
from trivium.auth._perms import get_user_permissions
from trivium.auth._perms import has_perm
from trivium.auth._perms import model_permissions
from trivium.auth._smtp import MailError
from trivium.auth._smtp import SMTPMailer
from trivium.auth._validators import DEFAULT_VALIDATORS
from trivium.auth._validators import CommonPassword
from trivium.auth._validators import MinimumLength
from trivium.auth._validators import NumericPassword
from trivium.auth._validators import PasswordValidationError
from trivium.auth._validators import PasswordValidator
from trivium.auth._validators import UserAttributeSimilarity
from trivium.auth._validators import password_help_texts
from trivium.auth._validators import validate_password
from trivium.auth._ws_origin import cross_origin_handshake

if TYPE_CHECKING:
    from trivium.auth._pages import pages_router

__all__ = [
    "ANONYMOUS",
    "DEFAULT_HASHER",
    "DEFAULT_VALIDATORS",
    "PASSWORD_CHANGE_REVOKES",
    "UNUSABLE_PASSWORD_PREFIX",
    "APIToken",
    "AbstractUser",
    "AnonymousUser",
    "Auth",
    "AuthConfig",
    "AuthInfo",
    "AuthenticationMiddleware",
    "AuthenticationStep",
    "CommonPassword",
    "ConsoleMailer",
    "CurrentUser",
    "Group",
    "Guard",
    "InvalidTokenError",
    "JWTConfig",
    "LoginRequired",
    "LoginThrottle",
    "MailError",
    "Mailer",
    "MemoryMailer",
    "MinimumLength",
    "NumericPassword",
    "OptionalUser",
    "PageForbidden",
    "PasswordHasher",
    "PasswordValidationError",
    "PasswordValidator",
    "Permission",
    "RefreshToken",
    "SMTPMailer",
    "TokenPair",
    "User",
    "UserAttributeSimilarity",
    "UserReader",
    "app_label",
    "build_message",
    "check_password",
    "create_superuser",
    "create_user",
    "cross_origin_handshake",
    "current_user",
    "dummy_verify",
    "ensure_permissions",
    "get_auth",
    "get_user_by_identifier",
    "get_user_permissions",
    "has_perm",
    "hash_password",
    "identifier_taken",
    "login_required",
    "model_permissions",
    "normalize_email",
    "normalize_username",
    "optional_user",
    "pages_router",
    "password_help_texts",
    "require_object_permission",
    "require_permission",
    "require_scopes",
    "require_staff",
    "require_superuser",
    "require_user",
    "set_password",
    "set_unusable_password",
    "username_text_error",
    "validate_password",
    "verify_password",
]


def __getattr__(name: str) -> Any:
    # The HTML pages import Jinja2 and trivium.forms: load them only when asked for.
    if name == "pages_router":
        from trivium.auth._pages import pages_router

        globals()[name] = pages_router
        return pages_router
    raise AttributeError(f"module 'trivium.auth' has no attribute {name!r}")
