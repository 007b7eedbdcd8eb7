"""CRUD router options, start-up checks and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import ConfigDict
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from tests.db.crud_models import SUFFIX
from tests.db.crud_models import Post
from tests.db.crud_models import Writer
from tests.db.crud_models import crud_app

from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium import Request
from trivium.db import CRUDOptions
from trivium.db import CRUDRouter
from trivium.db import Database
from trivium.db import Model
from trivium.db import crud_router
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


class Pair(Model):
    __tablename__ = f"crud_pa_{SUFFIX}"
    left: Mapped[int] = mapped_column(primary_key=True)
    right: Mapped[int] = mapped_column(primary_key=True)


class Account(Model):
    __tablename__ = f"crud_ac_{SUFFIX}"
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    token: Mapped[str] = mapped_column(String(50), default="")


def app_with(db: Database, model: type[Any], **options: Any) -> App:
    app = App()
    db.init_app(app)
    app.include_router(crud_router(model, db, **options))
    return app


def test_generated_schemas_are_exposed_on_the_router(db: Database) -> None:
    router = crud_router(Post, db, exclude={"secret"})
    assert isinstance(router, CRUDRouter)
    assert router.model is Post
    schemas = router.schemas
    assert schemas.create.__name__ == "PostCreate"
    assert schemas.update.__name__ == "PostUpdate"
    assert schemas.read.__name__ == "PostRead"
    assert schemas.page.__name__ == "PostPage"
    assert schemas.replace is schemas.create
    assert set(schemas.create.model_fields) == {
        "title",
        "slug",
        "body",
        "pages",
        "published",
        "writer_id",
    }
    assert "secret" not in schemas.read.model_fields
    assert {"id", "created_at", "updated_at"} <= set(schemas.read.model_fields)
    assert not any(f.is_required() for f in schemas.update.model_fields.values())


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"filters": ["nope"]}, "crud-unknown-field"),
        ({"filters": ["title__near"]}, "crud-bad-filter"),
        ({"filters": ["secret"], "exclude": {"secret"}}, "crud-bad-filter"),
        ({"ordering": ["nope"]}, "crud-unknown-field"),
        ({"search": ["secret"], "exclude": {"secret"}}, "crud-bad-filter"),
        ({"exclude": {"nope"}}, "crud-unknown-field"),
        ({"exclude": {"slug"}}, "crud-hidden-required"),
        ({"read_only": {"title"}}, "crud-hidden-required"),
        ({"page_size": 50, "max_page_size": 10}, "crud-page-size"),
        ({"actions": ["list", "upsert"]}, "crud-unknown-action"),
        ({"actions": "list"}, "crud-option-type"),
        ({"exclude": "secret"}, "crud-option-type"),
        ({"filters": "title"}, "crud-option-type"),
        ({"search": "title"}, "crud-option-type"),
    ],
)
def test_misconfiguration_is_found_at_start_up(
    db: Database, options: dict[str, Any], code: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        crud_router(Post, db, **options)
    assert caught.value.code == code


def test_a_composite_primary_key_is_refused(db: Database) -> None:
    with pytest.raises(ConfigurationError, match="composite primary key"):
        crud_router(Pair, db)


def test_a_custom_schema_must_name_model_attributes(db: Database) -> None:
    class Wrong(BaseModel):
        colour: str

    with pytest.raises(ConfigurationError) as caught:
        crud_router(Post, db, create_schema=Wrong)
    assert caught.value.code == "crud-schema-field"


def test_hidden_required_columns_are_fine_without_the_create_action(db: Database) -> None:
    router = crud_router(Post, db, exclude={"slug"}, actions=["list", "read"])
    assert len(router.routes) == 2


def test_read_only_fields_are_returned_but_not_written(db: Database) -> None:
    app = app_with(db, Post, prefix="/posts", read_only={"pages"}, exclude={"secret"})
    with TestClient(app) as client:
        response = client.post("/posts", json={"title": "t", "slug": "s", "pages": 5})
        assert response.status_code == 422
        created = client.post("/posts", json={"title": "t", "slug": "s"}).json()
        assert created["pages"] == 1
        assert client.patch(f"/posts/{created['id']}", json={"pages": 9}).status_code == 422


def test_a_natural_primary_key_is_given_on_create_only(db: Database) -> None:
    class AccountIn(BaseModel):
        model_config = ConfigDict(extra="forbid")
        code: str
        name: str

    class AccountOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        code: str
        name: str

    options: CRUDOptions = {
        "prefix": "/accounts",
        "create_schema": AccountIn,
        "read_schema": AccountOut,
    }
    router = crud_router(Account, db, **options)
    assert "code" not in router.schemas.update.model_fields
    app = App()
    db.init_app(app)
    app.include_router(router)
    with TestClient(app) as client:
        response = client.post("/accounts", json={"code": "acme", "name": "Acme"})
        assert response.status_code == 201
        assert response.headers["location"] == "/accounts/acme"
        assert response.json() == {"code": "acme", "name": "Acme"}
        again = client.post("/accounts", json={"code": "acme", "name": "Other"})
        assert again.status_code == 409
        assert again.json() == {"detail": "an account with this code already exists"}
        assert client.get("/accounts/acme").json() == {"code": "acme", "name": "Acme"}


def test_actions_limit_the_routes(db: Database) -> None:
    app = app_with(db, Writer, prefix="/writers", actions=["list", "read"])
    with TestClient(app) as client:
        assert client.get("/writers").status_code == 200
        assert client.post("/writers", json={"name": "x"}).status_code == 405
        assert client.delete("/writers/1").status_code == 405


def test_dependencies_guard_every_operation(db: Database) -> None:
    def staff_only(request: Request) -> None:
        if request.headers.get("x-staff") != "yes":
            raise HTTPException(403, "staff only")

    app = app_with(db, Writer, prefix="/writers", dependencies=[Depends(staff_only)])
    with TestClient(app) as client:
        assert client.get("/writers").status_code == 403
        assert client.post("/writers", json={"name": "x"}).json() == {"detail": "staff only"}
        created = client.post("/writers", json={"name": "x"}, headers={"x-staff": "yes"})
        assert created.status_code == 201


def test_the_default_prefix_is_the_table_name(db: Database) -> None:
    app = app_with(db, Writer)
    with TestClient(app) as client:
        assert client.get(f"/{Writer.__tablename__}").json()["total"] == 0


def test_openapi_documents_every_operation_and_status(db: Database) -> None:
    doc = crud_app(db).openapi()
    paths = doc["paths"]
    assert set(paths["/posts"]) == {"get", "post"}
    assert set(paths["/posts/{id}"]) == {"get", "put", "patch", "delete"}
    statuses = {
        method: set(operation["responses"])
        for method, operation in [*paths["/posts"].items(), *paths["/posts/{id}"].items()]
        if method != "get"
    }
    assert {"201", "409", "422"} <= statuses["post"]
    assert {"200", "404", "409", "422"} <= statuses["put"]
    assert {"200", "404", "409", "422"} <= statuses["patch"]
    assert {"204", "404", "409"} <= statuses["delete"]
    assert "content" not in paths["/posts/{id}"]["delete"]["responses"]["204"]
    assert {"200", "404", "422"} <= set(paths["/posts/{id}"]["get"]["responses"])

    def body_ref(method: str, path: str) -> str:
        content = paths[path][method]["requestBody"]["content"]["application/json"]
        return str(content["schema"]["$ref"]).rsplit("/", 1)[-1]

    assert body_ref("post", "/posts") == "PostCreate"
    assert body_ref("put", "/posts/{id}") == "PostCreate"
    assert body_ref("patch", "/posts/{id}") == "PostUpdate"
    ok = paths["/posts/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["$ref"].endswith("/PostRead")
    listing = paths["/posts"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PostPage"
    )
    names = [p["name"] for p in listing["parameters"]]
    assert names[:4] == ["page", "size", "ordering", "search"]
    assert {"published", "title__icontains", "id__in"} <= set(names)
    assert paths["/writers"]["get"]["tags"] == ["writers"]


def test_openapi_schemas_follow_the_columns(db: Database) -> None:
    schemas = crud_app(db).openapi()["components"]["schemas"]
    create = schemas["PostCreate"]
    assert create["additionalProperties"] is False
    assert sorted(create["required"]) == ["slug", "title"]
    assert create["properties"]["title"]["maxLength"] == 40
    assert create["properties"]["pages"]["default"] == 1
    assert "secret" not in create["properties"]
    assert "required" not in schemas["PostUpdate"]
    assert "default" not in schemas["PostUpdate"]["properties"]["title"]
    read = schemas["PostRead"]
    assert {"id", "created_at", "updated_at"} <= set(read["required"])
    assert set(schemas["PostPage"]["required"]) == {"items", "total", "page", "size", "pages"}
    assert schemas["TagRead"]["properties"]["id"]["format"] == "uuid"


def test_an_unknown_option_is_a_type_error(db: Database) -> None:
    with pytest.raises(TypeError, match=r"unknown options \['require_ifmatch'\]"):
        crud_router(Post, db, require_ifmatch=True)  # type: ignore[call-arg]
