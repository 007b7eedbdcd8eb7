"""Permissions: codenames for models, creating the rows, and loading what a user may do.

A permission is a row of `auth_permission` named by a dotted codename. For a model the
four standard ones are `<label>.view_<model>`, `.add_`, `.change_` and `.delete_`, where
`<model>` is the class name lower-cased and `<label>` is the class's `__app_label__` if it
sets one, else the first component of its module (`shop.models.Product` gives
`shop.change_product`).

Checks query the association tables directly (two small queries at most) rather than
loading relationships; nothing is cached on the user object, so a change is seen at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Table
from sqlalchemy import select

from trivium.auth._models import AbstractUser
from trivium.auth._models import Permission
from trivium.auth._models import group_permissions

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "DEFAULT_ACTIONS",
    "app_label",
    "ensure_permissions",
    "get_user_permissions",
    "has_perm",
    "model_permissions",
]

DEFAULT_ACTIONS: tuple[str, ...] = ("view", "add", "change", "delete")
"""The standard permissions made for every model, in order."""


def app_label(model: type[object]) -> str:
    """Return the label that prefixes `model`'s permission codenames.

    `model.__app_label__` when the class sets it, else the first component of its module.
    """
    label = getattr(model, "__app_label__", None)
    if isinstance(label, str) and label:
        return label
    return model.__module__.split(".", 1)[0]


def model_permissions(
    model: type[object], actions: Sequence[str] = DEFAULT_ACTIONS
) -> list[tuple[str, str]]:
    """Return `(codename, name)` of the standard permissions of `model`.

    ```python
    model_permissions(Product)
    # [("shop.view_product", "Can view product"), ("shop.add_product", "Can add product"), ...]
    ```
    """
    label, model_name = app_label(model), model.__name__.lower()
    verbose = getattr(model, "__verbose_name__", None) or model_name
    return [(f"{label}.{action}_{model_name}", f"Can {action} {verbose}") for action in actions]


async def ensure_permissions(
    session: AsyncSession,
    *models: type[object],
    custom: Iterable[tuple[str, str]] = (),
) -> list[Permission]:
    """Create the missing permission rows of `models` (and `custom` ones); return them all.

    Existing rows are left as they are (their names are not updated). The new rows are
    flushed, not committed.

    Args:
        session: where the rows are read and added.
        *models: model classes whose view/add/change/delete permissions must exist.
        custom: extra `(codename, name)` pairs, e.g. `("shop.publish_product", "Can publish")`.
    """
    wanted: dict[str, str] = {}
    for model in models:
        wanted.update(model_permissions(model))
    wanted.update(custom)
    for codename in wanted:
        if "." not in codename or len(codename) > 100:
            raise ValueError(f"permission codename {codename!r} must be '<label>.<name>' (≤ 100)")
    if not wanted:
        return []
    result = await session.execute(select(Permission).where(Permission.codename.in_(wanted)))
    found = {permission.codename: permission for permission in result.scalars()}
    added = [Permission(codename=c, name=n) for c, n in wanted.items() if c not in found]
    if added:
        session.add_all(added)
        await session.flush()
    found.update((permission.codename, permission) for permission in added)
    return [found[codename] for codename in wanted]


def _links(user: AbstractUser) -> tuple[Table, Table]:
    """The user model's `<table>_groups` and `<table>_permissions` association tables."""
    model = type(user)
    groups: Table = model.groups.property.secondary
    permissions: Table = model.user_permissions.property.secondary
    return groups, permissions


async def get_user_permissions(session: AsyncSession, user: AbstractUser) -> set[str]:
    """Return the codenames `user` has: their own and their groups' permissions.

    An active superuser has every permission in `auth_permission`; an inactive user has none.
    """
    if not user.is_active:
        return set()
    if user.is_superuser:
        return set((await session.scalars(select(Permission.codename))).all())
    groups, own = _links(user)
    user_id = user.id  # type: ignore[attr-defined]
    direct = (
        select(Permission.codename)
        .join(own, own.c.permission_id == Permission.id)
        .where(own.c.user_id == user_id)
    )
    via_groups = (
        select(Permission.codename)
        .join(group_permissions, group_permissions.c.permission_id == Permission.id)
        .join(groups, groups.c.group_id == group_permissions.c.group_id)
        .where(groups.c.user_id == user_id)
    )
    result = await session.scalars(direct.union(via_groups))
    return set(result.all())


async def has_perm(user: AbstractUser, codename: str, session: AsyncSession) -> bool:
    """Whether `user` has the permission `codename` (always for an active superuser).

    The arguments come in the order of `Auth.has_perm(user, codename, session)`.
    """
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    groups, own = _links(user)
    user_id = user.id  # type: ignore[attr-defined]
    direct = (
        select(own.c.user_id)
        .join(Permission, own.c.permission_id == Permission.id)
        .where(own.c.user_id == user_id, Permission.codename == codename)
    )
    if (await session.execute(direct.limit(1))).first() is not None:
        return True
    via_groups = (
        select(groups.c.user_id)
        .join(group_permissions, group_permissions.c.group_id == groups.c.group_id)
        .join(Permission, group_permissions.c.permission_id == Permission.id)
        .where(groups.c.user_id == user_id, Permission.codename == codename)
    )
    return (await session.execute(via_groups.limit(1))).first() is not None
