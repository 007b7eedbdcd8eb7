"""Users, groups, permissions and tokens on every database backend."""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trivium import App
from trivium import HTTPException
from trivium.auth import APIToken
from trivium.auth import Group
from trivium.auth import PasswordHasher
from trivium.auth import Permission
from trivium.auth import RefreshToken
from trivium.auth import User
from trivium.auth import app_label
from trivium.auth import check_password
from trivium.auth import create_superuser
from trivium.auth import create_user
from trivium.auth import ensure_permissions
from trivium.auth import get_user_by_identifier
from trivium.auth import get_user_permissions
from trivium.auth import has_perm
from trivium.auth import model_permissions
from trivium.auth import set_password
from trivium.auth import set_unusable_password
from trivium.db import Database
from trivium.testing import TestClient

FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


class Product:
    """Stands in for a model class: only the name and module matter."""


class Invoice:
    __app_label__ = "billing"
    __verbose_name__ = "invoice document"


@pytest.mark.anyio
async def test_create_user_hashes_the_password_and_normalizes_the_email(
    session: AsyncSession,
) -> None:
    user = await create_user(session, email="  Ada@Example.COM ", password="s3cret-passphrase")
    await session.commit()
    assert user.id is not None
    assert user.email == "ada@example.com"
    assert user.username is None
    assert user.password.startswith("$argon2id$")
    assert "s3cret-passphrase" not in user.password
    assert (user.is_active, user.is_staff, user.is_superuser) == (True, False, False)
    assert user.last_login is None
    assert user.date_joined.tzinfo is not None
    assert abs(user.date_joined - datetime.datetime.now(datetime.UTC)).total_seconds() < 60
    assert user.is_authenticated
    assert not user.is_anonymous
    assert user.identifier == "ada@example.com"
    assert await check_password(user, "s3cret-passphrase")
    assert not await check_password(user, "wrong")


@pytest.mark.anyio
async def test_create_user_needs_an_email_or_a_username(session: AsyncSession) -> None:
    with pytest.raises(ValueError, match="email or a username"):
        await create_user(session, email="  ", username=None, password="x")


@pytest.mark.anyio
async def test_user_without_password_cannot_log_in(session: AsyncSession) -> None:
    user = await create_user(session, username="bot", hasher=FAST)
    assert user.identifier == "bot"
    assert str(user) == "bot"
    assert user.password.startswith("!")
    assert not user.has_usable_password
    assert not await check_password(user, "")
    assert not await check_password(user, user.password)
    await set_password(session, user, "now-a-real-one", hasher=FAST)
    assert user.password.startswith("$argon2id$")
    assert await check_password(user, "now-a-real-one", hasher=FAST)
    set_unusable_password(user)
    assert not await check_password(user, "now-a-real-one", hasher=FAST)


@pytest.mark.anyio
async def test_email_and_username_are_unique(session: AsyncSession) -> None:
    await create_user(session, email="ada@example.com", username="ada", hasher=FAST)
    await session.commit()
    with pytest.raises(IntegrityError):
        await create_user(session, email="ADA@example.com", hasher=FAST)
    await session.rollback()
    with pytest.raises(IntegrityError):
        await create_user(session, username="ada", hasher=FAST)
    await session.rollback()
    # Several users without an e-mail (or without a username) are fine.
    await create_user(session, username="grace", hasher=FAST)
    await create_user(session, username="linus", hasher=FAST)
    await create_user(session, email="x@example.com", hasher=FAST)
    await create_user(session, email="y@example.com", hasher=FAST)
    await session.commit()


@pytest.mark.anyio
async def test_create_superuser_sets_every_flag(session: AsyncSession) -> None:
    root = await create_superuser(session, username="root", password="pw", hasher=FAST)
    assert (root.is_active, root.is_staff, root.is_superuser) == (True, True, True)


@pytest.mark.anyio
@pytest.mark.parametrize("flag", ["is_active", "is_staff", "is_superuser"])
async def test_create_superuser_refuses_a_flag_it_cannot_honour(
    session: AsyncSession, flag: str
) -> None:
    with pytest.raises(ValueError, match=f"{flag}=False is not one"):
        await create_superuser(session, username="root", hasher=FAST, **{flag: False})


@pytest.mark.anyio
async def test_check_password_upgrades_an_outdated_hash(session: AsyncSession) -> None:
    user = await create_user(session, username="ada", password="pw-for-ada", hasher=FAST)
    await session.commit()
    old = user.password
    stronger = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1)
    assert await check_password(user, "pw-for-ada", hasher=stronger)
    assert user.password != old
    assert "t=2" in user.password
    await session.commit()
    session.expunge_all()
    reloaded = await session.get(User, user.id)
    assert reloaded is not None
    assert reloaded.password == user.password
    before = reloaded.password
    assert await check_password(reloaded, "pw-for-ada", hasher=stronger)
    assert reloaded.password == before
    assert not await check_password(reloaded, "wrong", hasher=FAST)
    assert reloaded.password == before


@pytest.mark.anyio
async def test_find_user_by_username_or_email(session: AsyncSession) -> None:
    ada = await create_user(session, email="ada@example.com", username="ada", hasher=FAST)
    odd = await create_user(session, username="me@home", hasher=FAST)
    await session.commit()
    assert await get_user_by_identifier(session, "ada") is ada
    assert await get_user_by_identifier(session, " ADA@example.com ") is ada
    assert await get_user_by_identifier(session, "me@home") is odd
    assert await get_user_by_identifier(session, "nobody") is None
    assert await get_user_by_identifier(session, "") is None


@pytest.mark.anyio
async def test_groups_load_explicitly_and_links_cascade(session: AsyncSession) -> None:
    [view] = await ensure_permissions(session, custom=[("shop.view_order", "Can view order")])
    staff = Group(name="staff", permissions=[view])
    user = await create_user(session, username="ada", hasher=FAST)
    (await user.awaitable_attrs.groups).append(staff)
    await session.commit()
    session.expunge_all()
    user2 = await session.get(User, user.id)
    assert user2 is not None
    [group] = await user2.awaitable_attrs.groups
    assert group.name == "staff"
    assert str(group) == "staff"
    assert [str(p) for p in await group.awaitable_attrs.permissions] == ["shop.view_order"]
    await session.delete(group)
    await session.commit()
    session.expunge_all()
    user3 = await session.get(User, user.id)
    assert user3 is not None
    assert await user3.awaitable_attrs.groups == []
    assert (await session.scalars(select(Permission.codename))).all() == ["shop.view_order"]


@pytest.mark.anyio
async def test_tokens_store_scopes_and_go_with_their_user(session: AsyncSession) -> None:
    user = await create_user(session, username="ada", hasher=FAST)
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC)
    session.add(
        APIToken(
            user_id=user.id,
            name="CI",
            prefix="abc123",
            key_hash="0" * 64,
            scopes=["read", "write"],
            expires_at=expires,
        )
    )
    session.add(RefreshToken(jti="j1", user_id=user.id, family="f1", expires_at=expires))
    await session.commit()
    session.expunge_all()
    token = (await session.scalars(select(APIToken))).one()
    assert token.scopes == ["read", "write"]
    assert token.expires_at == expires
    assert token.revoked_at is None
    assert (await token.awaitable_attrs.user).username == "ada"
    session.add(RefreshToken(jti="j1", user_id=user.id, family="f2", expires_at=expires))
    with pytest.raises(IntegrityError):
        await session.commit()
    await session.rollback()
    await session.delete(await session.get(User, user.id))
    await session.commit()
    assert (await session.scalars(select(APIToken))).all() == []
    assert (await session.scalars(select(RefreshToken))).all() == []


def test_model_permissions_are_named_after_the_module_or_app_label() -> None:
    label = app_label(Product)
    assert label == Product.__module__.split(".")[0]
    assert model_permissions(Product) == [
        (f"{label}.view_product", "Can view product"),
        (f"{label}.add_product", "Can add product"),
        (f"{label}.change_product", "Can change product"),
        (f"{label}.delete_product", "Can delete product"),
    ]
    assert app_label(User) == "trivium"
    assert model_permissions(Invoice, actions=["approve"]) == [
        ("billing.approve_invoice", "Can approve invoice document")
    ]


@pytest.mark.anyio
async def test_ensure_permissions_creates_only_missing_rows(session: AsyncSession) -> None:
    first = await ensure_permissions(session, Invoice)
    assert [p.codename for p in first] == [
        "billing.view_invoice",
        "billing.add_invoice",
        "billing.change_invoice",
        "billing.delete_invoice",
    ]
    again = await ensure_permissions(
        session, Invoice, custom=[("billing.refund", "Can refund an invoice")]
    )
    assert [p.id for p in again[:4]] == [p.id for p in first]
    assert again[4].codename == "billing.refund"
    assert await ensure_permissions(session) == []
    count = len((await session.scalars(select(Permission))).all())
    assert count == 5
    with pytest.raises(ValueError, match="must be '<label>.<name>'"):
        await ensure_permissions(session, custom=[("refund", "no label")])


@pytest.mark.anyio
async def test_user_permissions_combine_own_and_group_ones(session: AsyncSession) -> None:
    view, add, change, delete = await ensure_permissions(session, Invoice)
    editors = Group(name="editors", permissions=[add, change])
    ada = await create_user(session, username="ada", hasher=FAST)
    (await ada.awaitable_attrs.groups).append(editors)
    (await ada.awaitable_attrs.user_permissions).append(view)
    other = await create_user(session, username="other", hasher=FAST)
    await session.flush()
    assert await get_user_permissions(session, ada) == {
        "billing.view_invoice",
        "billing.add_invoice",
        "billing.change_invoice",
    }
    assert await has_perm(ada, "billing.view_invoice", session)
    assert await has_perm(ada, "billing.change_invoice", session)
    assert not await has_perm(ada, delete.codename, session)
    assert not await has_perm(ada, "billing.unknown", session)
    assert await get_user_permissions(session, other) == set()
    assert not await has_perm(other, "billing.view_invoice", session)
    ada.is_active = False
    assert await get_user_permissions(session, ada) == set()
    assert not await has_perm(ada, "billing.view_invoice", session)


@pytest.mark.anyio
async def test_active_superuser_has_every_permission(session: AsyncSession) -> None:
    await ensure_permissions(session, Invoice)
    root = await create_superuser(session, username="root", hasher=FAST)
    assert len(await get_user_permissions(session, root)) == 4
    assert await has_perm(root, "anything.at_all", session)
    root.is_active = False
    assert await get_user_permissions(session, root) == set()
    assert not await has_perm(root, "billing.view_invoice", session)


def test_permission_checks_in_a_handler(db: Database) -> None:
    app = App()
    db.init_app(app)

    @app.post("/users")
    async def sign_up(
        username: str,
        password: str,
        session: AsyncSession = db.depends(),  # type: ignore[assignment]
    ) -> dict[str, object]:
        user = await create_user(session, username=username, password=password, hasher=FAST)
        await ensure_permissions(session, custom=[("blog.post", "Can post")])
        return {"id": user.id, "identifier": user.identifier}

    @app.get("/users/{user_id}/can/{codename}")
    async def can(
        user_id: int,
        codename: str,
        session: AsyncSession = db.depends(),  # type: ignore[assignment]
    ) -> dict[str, bool]:
        user = await session.get(User, user_id)
        if user is None:
            raise HTTPException(404, "no such user")
        return {"allowed": await has_perm(user, codename, session)}

    with TestClient(app) as client:
        created = client.post("/users", params={"username": "ada", "password": "pw-pw-pw-pw"})
        assert created.status_code == 200
        user_id = created.json()["id"]
        assert created.json()["identifier"] == "ada"
        assert client.get(f"/users/{user_id}/can/blog.post").json() == {"allowed": False}
        assert client.get("/users/999/can/blog.post").status_code == 404


def _first_python_block(text: str) -> str:
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize("source", ["docs/auth-models.md", "src/trivium/auth/__init__.py"])
def test_documented_example_runs(source: str) -> None:
    code = _first_python_block((Path(__file__).parents[2] / source).read_text())
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.anyio
async def test_set_password_revokes_tokens_in_the_same_transaction(
    session: AsyncSession,
) -> None:
    from trivium.auth._tokens import create_token

    user = await create_user(session, email="rev@example.com", password="first-one", hasher=FAST)
    other = await create_user(session, email="keep@example.com", password="x", hasher=FAST)
    await create_token(session, user.id, "cli")
    await create_token(session, other.id, "cli")
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    session.add(RefreshToken(jti="r1", user_id=user.id, family="r", expires_at=expires))
    await session.flush()

    await set_password(session, user, "second-one", hasher=FAST)

    assert await check_password(user, "second-one", hasher=FAST)
    tokens = (await session.scalars(select(APIToken).order_by(APIToken.user_id))).all()
    assert [(t.user_id, t.revoked_at is not None) for t in tokens] == [
        (user.id, True),
        (other.id, False),
    ]
    refresh = await session.scalar(select(RefreshToken).where(RefreshToken.jti == "r1"))
    assert refresh is not None
    assert refresh.revoked_at is not None


@pytest.mark.anyio
async def test_set_password_keeps_the_kinds_left_out_of_revoke(session: AsyncSession) -> None:
    from trivium.auth._tokens import create_token

    user = await create_user(session, email="some@example.com", password="first", hasher=FAST)
    await create_token(session, user.id, "cli")
    await set_password(session, user, "second", revoke={"refresh_tokens"}, hasher=FAST)
    token = await session.scalar(select(APIToken).where(APIToken.user_id == user.id))
    assert token is not None
    assert token.revoked_at is None


@pytest.mark.anyio
async def test_set_password_in_the_old_argument_order_says_what_to_pass(
    session: AsyncSession,
) -> None:
    user = await create_user(session, email="old@example.com", password="first", hasher=FAST)
    with pytest.raises(TypeError, match="raw"):
        await set_password(user, "second")  # type: ignore[arg-type, call-arg]
    with pytest.raises(TypeError, match=r"set_password\(session, user, raw\)"):
        await set_password(user, user, "second")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="revoke="):
        await set_password(session, user, "second", revoke={"everything"})
