"""The auth tables: users, groups, permissions, API tokens and JWT refresh tokens.

Relationships (`User.groups`, `User.user_permissions`, `Group.permissions`) use SQLAlchemy's
default lazy loading, which async code cannot trigger implicitly: read them with
`await user.awaitable_attrs.groups` or load them up front with
`select(User).options(selectinload(User.groups))`. Nothing is loaded eagerly, so
authenticating a request costs one query for the user; permission checks
(`trivium.auth.has_perm`) query the association tables directly.

`AbstractUser` holds the user's columns and relationships as a mixin, so a project can
define its own user table (`class Account(AbstractUser, IntPK, Model)`); its
many-to-many tables are named `<table>_groups` and `<table>_permissions`.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING
from typing import ClassVar
from typing import cast

from sqlalchemy import JSON
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import validates

from trivium.auth._identity import has_nul
from trivium.auth._identity import normalize_email
from trivium.auth._identity import normalize_username
from trivium.auth._passwords import UNUSABLE_PREFIX
from trivium.auth._passwords import PasswordHasher
from trivium.auth._passwords import hash_password
from trivium.auth._passwords import make_unusable_password
from trivium.auth._passwords import verify_password
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import UTCDateTime
from trivium.db import utcnow

if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Collection

    from sqlalchemy.ext.asyncio import AsyncSession
    from typing_extensions import TypeVar

    U = TypeVar("U", bound="AbstractUser", default="User")

__all__ = [
    "PASSWORD_CHANGE_REVOKES",
    "UNUSABLE_PASSWORD_PREFIX",
    "APIToken",
    "AbstractUser",
    "Group",
    "Permission",
    "RefreshToken",
    "User",
    "check_password",
    "create_superuser",
    "create_user",
    "get_user_by_identifier",
    "group_permissions",
    "identifier_taken",
    "normalize_email",
    "normalize_username",
    "set_password",
    "set_unusable_password",
]

UNUSABLE_PASSWORD_PREFIX = UNUSABLE_PREFIX
"""A stored password starting with this can never match (the user cannot log in with one)."""


def _identity_column(length: int) -> String:
    """A string compared byte for byte on every database.

    MariaDB's and MySQL's default collations ignore case and accents (`álice` equals
    `alice`), so a lookup or a unique check there would disagree with PostgreSQL and
    SQLite. Identity is decided by `trivium.auth`'s normalisation instead.
    """
    return String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


class Permission(IntPK, Model):
    """A named permission, such as `"shop.change_product"`, given to users or groups."""

    __tablename__ = "auth_permission"

    codename: Mapped[str] = mapped_column(String(100), unique=True)
    """The full dotted name: `"<app label>.<action>_<model>"` or a custom one."""
    name: Mapped[str] = mapped_column(String(255))
    """A human-readable description, e.g. `"Can change product"`."""

    def __str__(self) -> str:
        return self.codename


group_permissions = Table(
    "auth_group_permissions",
    Model.metadata,
    Column("group_id", Integer, ForeignKey("auth_group.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "permission_id",
        Integer,
        ForeignKey("auth_permission.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)
"""The many-to-many table between groups and permissions."""


class Group(IntPK, Model):
    """A named set of permissions; a user has the permissions of every group they are in."""

    __tablename__ = "auth_group"

    name: Mapped[str] = mapped_column(String(150), unique=True)
    """The group's unique name."""
    permissions: Mapped[list[Permission]] = relationship(secondary=group_permissions)
    """The group's permissions (load with `await group.awaitable_attrs.permissions`)."""

    def __str__(self) -> str:
        return self.name


def _user_link_table(user_table: str, suffix: str, target: str) -> Table:
    """Return (creating once) the many-to-many table `<user_table>_<suffix>`."""
    name = f"{user_table}_{suffix}"
    existing = Model.metadata.tables.get(name)
    if existing is not None:
        return existing
    column = f"{target.removeprefix('auth_')}_id"
    return Table(
        name,
        Model.metadata,
        Column(
            "user_id",
            Integer,
            ForeignKey(f"{user_table}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column(column, Integer, ForeignKey(f"{target}.id", ondelete="CASCADE"), primary_key=True),
    )


class AbstractUser:
    """The columns and relationships of a user; mix it into your own user model.

    ```python
    class Account(AbstractUser, IntPK, Model):
        __tablename__ = "accounts"
        display_name: Mapped[str] = mapped_column(String(100), default="")
    ```
    """

    email: Mapped[str | None] = mapped_column(_identity_column(254), unique=True, default=None)
    """The e-mail address, normalised (`normalize_email`; unique; optional with a username)."""
    username: Mapped[str | None] = mapped_column(_identity_column(150), unique=True, default=None)
    """The user name, normalised (`normalize_username`; unique; optional with an email)."""
    password: Mapped[str] = mapped_column(String(255), default=UNUSABLE_PASSWORD_PREFIX)
    """The encoded Argon2id hash; a value starting with `"!"` is an unusable password."""
    is_active: Mapped[bool] = mapped_column(default=True)
    """Inactive users cannot log in and have no permissions."""
    is_staff: Mapped[bool] = mapped_column(default=False)
    """Whether the user may use the admin."""
    is_superuser: Mapped[bool] = mapped_column(default=False)
    """An active superuser has every permission."""
    last_login: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime(), default=None)
    """When the user last logged in (UTC)."""
    date_joined: Mapped[datetime.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    """When the user was created (UTC)."""

    is_authenticated: ClassVar[bool] = True
    """Always true for a user loaded from the database (`AnonymousUser` has false)."""
    is_anonymous: ClassVar[bool] = False
    """Always false for a user loaded from the database."""

    @declared_attr
    def groups(cls) -> Mapped[list[Group]]:  # noqa: N805 - declared_attr receives the class
        """The user's groups (load with `await user.awaitable_attrs.groups`)."""
        table = _user_link_table(cls.__tablename__, "groups", "auth_group")  # type: ignore[attr-defined]
        return relationship(Group, secondary=table)

    @declared_attr
    def user_permissions(cls) -> Mapped[list[Permission]]:  # noqa: N805
        """The permissions given to the user directly, besides those of their groups."""
        table = _user_link_table(cls.__tablename__, "permissions", "auth_permission")  # type: ignore[attr-defined]
        return relationship(Permission, secondary=table)

    @validates("email", "username")
    def _normalize(self, key: str, value: str | None) -> str | None:
        """Store emails and user names in their canonical form, however they are set.

        Raises:
            ValueError: the normalised value is longer than its column (NFKC can make
                text longer), which the database would refuse at the flush.
        """
        if value is None:
            return None
        normalized = normalize_email(value) if key == "email" else normalize_username(value)
        mapper = getattr(type(self), "__mapper__", None)
        column = mapper.columns.get(key) if mapper is not None else None
        length = getattr(column.type, "length", None) if column is not None else None
        if isinstance(length, int) and len(normalized) > length:
            raise ValueError(
                f"{key} can have at most {length} characters once normalised (Unicode NFKC "
                f"and case folding); {normalized[:20]!r}... has {len(normalized)}"
            )
        return normalized or None

    @property
    def identifier(self) -> str:
        """The name to show for the user: the username, or the e-mail when there is none."""
        return self.username or self.email or ""

    @property
    def has_usable_password(self) -> bool:
        """Whether a password is set that can match (not `"!"`-prefixed)."""
        return not self.password.startswith(UNUSABLE_PASSWORD_PREFIX)

    def __str__(self) -> str:
        return self.identifier


class User(AbstractUser, IntPK, Model):
    """The shipped user model (table `auth_user`)."""

    __tablename__ = "auth_user"


class APIToken(IntPK, Model):
    """A long-lived API key of a user, looked up by `prefix`, checked by `key_hash`.

    Only the SHA-256 hex digest of the secret is stored; the full key is shown once.
    """

    __tablename__ = "auth_api_token"

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    """The owner's id."""
    name: Mapped[str] = mapped_column(String(100))
    """A label the user chose ("CI deploys")."""
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    """The public part of the key, used to find the row."""
    key_hash: Mapped[str] = mapped_column(String(128))
    """SHA-256 hex digest of the secret part."""
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The scopes the token grants."""
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    """When the token was created (UTC)."""
    expires_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime(), default=None)
    """When the token stops working, if ever."""
    last_used_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime(), default=None)
    """When the token was last accepted."""
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime(), default=None)
    """When the token was revoked; a revoked token is refused."""
    user: Mapped[User] = relationship()
    """The owner (load with `await token.awaitable_attrs.user`)."""


class RefreshToken(IntPK, Model):
    """A JWT refresh token's server-side record, for rotation and reuse detection.

    Every rotation issues a new token in the same `family`; presenting a token that was
    already replaced revokes the whole family.
    """

    __tablename__ = "auth_refresh_token"

    jti: Mapped[str] = mapped_column(String(64), unique=True)
    """The token's unique id (JWT `jti` claim)."""
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    """The owner's id."""
    family: Mapped[str] = mapped_column(String(64), index=True)
    """The rotation chain this token belongs to."""
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    """When the token was issued (UTC)."""
    expires_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime())
    """When the token expires (UTC)."""
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime(), default=None)
    """When the token (or its family) was revoked."""
    replaced_by: Mapped[str | None] = mapped_column(String(64), default=None)
    """The `jti` of the token that replaced this one on rotation."""
    user: Mapped[User] = relationship()
    """The owner (load with `await token.awaitable_attrs.user`)."""


async def create_user(  # noqa: PLR0913 - keyword-only, like the columns they fill
    session: AsyncSession,
    *,
    email: str | None = None,
    username: str | None = None,
    password: str | None = None,
    model: type[U] = User,  # type: ignore[assignment]
    hasher: PasswordHasher | None = None,
    **fields: object,
) -> U:
    """Add a user to `session` with a hashed password and flush it (the caller commits).

    Args:
        session: where the user is added.
        email: the e-mail address (lower-cased); `email` or `username` is required.
        username: the user name.
        password: the raw password, hashed with Argon2id; `None` sets an unusable one
            (the user cannot log in until a password is set).
        model: the user model (a subclass of `AbstractUser`).
        hasher: the password hasher (default: `DEFAULT_HASHER`).
        **fields: other column values (`is_staff=True`, ...).

    Raises:
        ValueError: neither `email` nor `username` was given, or one is longer than its
            column once normalised.
        sqlalchemy.exc.IntegrityError: the e-mail or user name is taken.
    """
    email = normalize_email(email) if email else None
    username = normalize_username(username) if username else None
    if not email and not username:
        raise ValueError("a user needs an email or a username")
    factory = cast("Callable[..., U]", model)  # the mixin has no typed __init__
    user = factory(email=email, username=username, **fields)
    user.password = (
        make_unusable_password()
        if password is None
        else await hash_password(password, hasher=hasher)
    )
    session.add(user)
    await session.flush()
    return user


async def create_superuser(  # noqa: PLR0913 - as create_user
    session: AsyncSession,
    *,
    email: str | None = None,
    username: str | None = None,
    password: str | None = None,
    model: type[U] = User,  # type: ignore[assignment]
    hasher: PasswordHasher | None = None,
    **fields: object,
) -> U:
    """Add an active staff superuser (see `create_user` for the arguments).

    Raises:
        ValueError: `is_staff`, `is_superuser` or `is_active` given as false (a
            superuser is all three; use `create_user` for anything else).
    """
    refused = [
        flag
        for flag in ("is_staff", "is_superuser", "is_active")
        if fields.get(flag, True) is not True
    ]
    if refused:
        raise ValueError(
            f"create_superuser makes active staff superusers; {refused[0]}="
            f"{fields[refused[0]]!r} is not one (use create_user)"
        )
    fields = {**fields, "is_staff": True, "is_superuser": True, "is_active": True}
    return await create_user(
        session,
        email=email,
        username=username,
        password=password,
        model=model,
        hasher=hasher,
        **fields,
    )


PASSWORD_CHANGE_REVOKES = frozenset({"sessions", "api_tokens", "refresh_tokens"})
"""What a password change can revoke; `set_password` revokes all of it by default."""


async def set_password(
    session: AsyncSession,
    user: AbstractUser,
    raw: str | None,
    *,
    revoke: Collection[str] = PASSWORD_CHANGE_REVOKES,
    hasher: PasswordHasher | None = None,
) -> None:
    """Change `user`'s password and revoke what the old one gave access to.

    Stores the Argon2id hash of `raw` (`None`: an unusable password). The user's other
    logged-in sessions stop working because a session remembers a digest of the password
    hash it logged in with; in `session`'s transaction, the user's API tokens
    (`"api_tokens"`) and JWT refresh tokens (`"refresh_tokens"`) are revoked. Leave a
    kind out of `revoke` to keep it alive. `Auth.set_password` calls this with the app's
    `AuthConfig.revoke_on_password_change`.

    Raises:
        TypeError: the first argument is not the database session (the arguments are
            `session, user, raw`).
    """
    if not hasattr(session, "execute"):
        raise TypeError(
            "set_password(session, user, raw): pass the database session first, so that "
            "the user's tokens are revoked in the same transaction"
        )
    unknown = set(revoke) - PASSWORD_CHANGE_REVOKES
    if isinstance(revoke, str) or unknown:
        raise TypeError(
            f"set_password(revoke={revoke!r}): give a set of {sorted(PASSWORD_CHANGE_REVOKES)}"
        )
    user.password = (
        make_unusable_password() if raw is None else await hash_password(raw, hasher=hasher)
    )
    user_id = getattr(user, "id", None)
    if user_id is None:  # not saved yet: nothing was issued to it
        return
    now = utcnow()
    if "api_tokens" in revoke:
        await session.execute(
            update(APIToken)
            .where(APIToken.user_id == user_id, APIToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    if "refresh_tokens" in revoke:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    await session.flush()


def set_unusable_password(user: AbstractUser) -> None:
    """Make `user` unable to log in with any password."""
    user.password = make_unusable_password()


async def check_password(
    user: AbstractUser, raw: str, *, hasher: PasswordHasher | None = None
) -> bool:
    """Whether `raw` is `user`'s password; upgrades `user.password` if its hash is outdated.

    When the hash was made with other Argon2 parameters than the hasher's, a new hash is
    assigned to `user.password`; it is saved when the session commits.
    """
    matches, new_hash = await verify_password(raw, user.password, hasher=hasher)
    if matches and new_hash is not None:
        user.password = new_hash
    return matches


async def get_user_by_identifier(
    session: AsyncSession,
    identifier: str,
    *,
    model: type[U] = User,  # type: ignore[assignment]
) -> U | None:
    """Return the user whose username or e-mail is `identifier`, once normalised, if any.

    An identifier with an `@` is looked up as an e-mail first, then as a user name.
    The match is exact on the normalised form, whatever the database's collation. One
    holding a NUL matches nobody without a query (PostgreSQL refuses NUL in text).
    """
    value = normalize_username(identifier)
    if not value or has_nul(value):
        return None
    names = ("email", "username") if "@" in value else ("username",)
    for name in names:
        column = getattr(model, name)
        for found in (await session.execute(select(model).where(column == value))).scalars():
            if getattr(found, name) == value:  # a custom table may compare loosely
                return found
    return None


async def identifier_taken(
    session: AsyncSession,
    values: Collection[str | None],
    *,
    model: type[AbstractUser] = User,
    exclude: object = None,
) -> bool:
    """Return whether one of `values` (an email, a user name) names a user other than `exclude`.

    Values are looked up as at login (`get_user_by_identifier`), so a user name that is
    another user's email address is taken too: logging in with it would reach that user.
    """
    for value in values:
        if value is None:
            continue
        found = await get_user_by_identifier(session, value, model=model)
        if found is not None and getattr(found, "id", None) != exclude:
            return True
    return False
