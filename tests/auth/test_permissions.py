"""Model-level and object-level permissions: 401 for anonymous, 403 for not allowed."""

from __future__ import annotations

from typing import Annotated
from typing import Any

import pytest
from tests.auth.authapp import add_user
from tests.auth.authapp import login_as
from tests.auth.authapp import make_app

from trivium import Depends
from trivium import Request
from trivium.auth import get_auth
from trivium.auth import require_object_permission
from trivium.auth import require_permission
from trivium.auth import require_scopes
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.testing import TestClient

POSTS = {1: {"id": 1, "author": "ada"}, 2: {"id": 2, "author": "bob"}}


def _is_author(user: Any, codename: str, post: dict[str, Any]) -> bool:
    return codename == "blog.change_post" and post["author"] == user.username


def _app(db: Database, **options: Any) -> Any:
    app, _ = make_app(db, **options)

    @app.get("/posts/{post_id}/edit")
    async def edit(
        post_id: int, check: Annotated[Any, Depends(require_object_permission("blog.change_post"))]
    ) -> dict[str, Any]:
        post = POSTS[post_id]
        await check(post)
        return post

    @app.get("/posts/{post_id}/delete")
    async def delete(post_id: int, request: Request) -> int:
        await get_auth(request).check_object_permission(request, "blog.delete_post", POSTS[post_id])
        return post_id

    return app


def test_permission_given_directly_or_through_a_group_passes(db: Database) -> None:
    add_user(db, username="ada", perms=["shop.change_product"])
    add_user(db, username="bob", perms=["shop.change_product"], group="editors")
    add_user(db, username="eve")
    add_user(db, username="root", is_superuser=True)
    app, _ = make_app(db)
    with TestClient(app) as client:
        assert client.get("/products").status_code == 401
        for name, status in (("ada", 200), ("bob", 200), ("eve", 403), ("root", 200)):
            login_as(client, name)
            assert client.get("/products").status_code == status, name


def test_object_permission_hook_decides_per_object(db: Database) -> None:
    add_user(db, username="ada")
    add_user(db, username="root", is_superuser=True)
    app = _app(db, object_permission=_is_author)
    with TestClient(app) as client:
        assert client.get("/posts/1/edit").status_code == 401
        login_as(client, "ada")
        assert client.get("/posts/1/edit").json() == POSTS[1]
        assert client.get("/posts/2/edit").status_code == 403
        assert client.get("/posts/1/delete").status_code == 403
        login_as(client, "root")
        assert client.get("/posts/2/edit").status_code == 200


def test_object_permission_defaults_to_the_model_permission(db: Database) -> None:
    add_user(db, username="ada", perms=["blog.delete_post"])
    add_user(db, username="eve")
    app = _app(db)
    with TestClient(app) as client:
        assert client.get("/posts/2/delete").status_code == 401
        login_as(client, "ada")
        assert client.get("/posts/2/delete").json() == 2
        login_as(client, "eve")
        assert client.get("/posts/2/delete").status_code == 403


def test_guards_need_arguments() -> None:
    with pytest.raises(ConfigurationError, match="auth-guard-args"):
        require_permission()
    with pytest.raises(ConfigurationError, match="auth-guard-args"):
        require_scopes()
