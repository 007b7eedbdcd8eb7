"""Snapshots of the documents of representative apps.

A change to document generation shows up here as a diff. After checking that the new
output is right, rewrite the snapshots with `TRIVIUM_UPDATE_SNAPSHOTS=1 pytest tests/openapi`.
"""

from __future__ import annotations

import datetime
import enum
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel
from pydantic import Field
from pydantic import computed_field

from trivium import App
from trivium import Body
from trivium import Depends
from trivium import File
from trivium import Form
from trivium import Header
from trivium import HTTPException
from trivium import Query
from trivium import Router
from trivium import UploadFile
from trivium.openapi import APIKeyHeader
from trivium.openapi import OAuth2PasswordBearer
from trivium.openapi import OAuth2PasswordRequestForm
from trivium.openapi import webhooks

pytestmark = pytest.mark.drives_no_app

SNAPSHOTS = Path(__file__).parent / "snapshots"


class Status(enum.Enum):
    DRAFT = "draft"
    LIVE = "live"


class Dimensions(BaseModel):
    width: float = Field(gt=0)
    height: float = Field(gt=0)


class Product(BaseModel):
    """A product in the catalogue."""

    name: str = Field(min_length=1, max_length=100, examples=["Lamp"])
    price: float = Field(ge=0)
    status: Status = Status.DRAFT
    dimensions: Dimensions | None = None
    tags: list[str] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def slug(self) -> str:
        return self.name.lower()


class ProductList(BaseModel):
    items: list[Product]
    total: int


class Problem(BaseModel):
    detail: str


class Page(BaseModel):
    offset: int = Field(0, ge=0)
    limit: int = Field(20, ge=1, le=100)


def crud_app() -> App:
    app = App(
        title="Catalogue",
        version="1.0.0",
        description="Products and their prices.",
        openapi_tags=[{"name": "products", "description": "The catalogue"}],
    )
    router = Router(prefix="/products", tags=["products"])

    @router.get("", response_model=ProductList)
    def list_products(
        page: Annotated[Page, Query()],
        search: Annotated[str | None, Query(min_length=2, description="Text to find")] = None,
    ) -> dict[str, Any]:
        """List products, a page at a time."""
        return {"items": [], "total": 0}

    @router.post("", status_code=201)
    def create_product(product: Product) -> Product:
        return product

    @router.get("/{product_id:int}", responses={404: {"model": Problem}})
    def read_product(
        product_id: int, if_none_match: Annotated[str | None, Header()] = None
    ) -> Product:
        raise HTTPException(404, "no such product")

    @router.patch("/{product_id:int}", deprecated=True)
    def resize(
        product_id: int,
        dimensions: Dimensions,
        reason: Annotated[str, Body(max_length=200)],
    ) -> Product:
        raise NotImplementedError

    @router.delete("/{product_id:int}", status_code=204)
    def delete_product(product_id: int) -> None:
        return None

    app.include_router(router)

    @app.get("/health", include_in_schema=True, summary="Liveness")
    def health() -> dict[str, datetime.datetime]:
        return {}

    return app


def forms_app() -> App:
    app = App(title="Forms", version="0.1.0")

    @app.post("/contact")
    def contact(
        email: Annotated[str, Form(pattern=r"^[^@]+@[^@]+$")],
        message: Annotated[str, Form(max_length=2000)],
        subscribe: Annotated[bool, Form()] = False,
    ) -> dict[str, str]:
        return {}

    @app.post("/photos")
    def upload(
        photo: Annotated[UploadFile, File(description="A JPEG or PNG")],
        thumbnails: Annotated[list[bytes], File()],
        caption: Annotated[str, Form()] = "",
    ) -> dict[str, int]:
        return {}

    return app


oauth2 = OAuth2PasswordBearer(tokenUrl="/token", scopes={"orders": "Manage orders"})
api_key = APIKeyHeader(name="x-api-key", auto_error=False, description="For partners")


class Order(BaseModel):
    id: int
    product: str
    quantity: int = Field(1, ge=1)


def current_user(token: Annotated[str, Depends(oauth2)]) -> str:
    return token


def secured_app() -> App:
    app = App(
        title="Orders",
        version="3.0.0",
        servers=[{"url": "https://orders.example.com", "description": "Production"}],
    )

    @app.post("/token")
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
        return {"access_token": form.username, "token_type": "bearer"}

    @app.get("/orders", dependencies=[Depends(current_user)])
    def list_orders() -> list[Order]:
        return []

    @app.get("/partner/orders", operation_id="partnerOrders")
    def partner_orders(key: Annotated[str | None, Depends(api_key)]) -> list[Order]:
        return []

    hooks = webhooks(app)

    @hooks.post("/order-shipped")
    def order_shipped(order: Order) -> None:
        """Sent to partners when an order leaves the warehouse."""

    return app


APPS: dict[str, Callable[[], App]] = {
    "crud": crud_app,
    "forms": forms_app,
    "secured": secured_app,
}


@pytest.mark.parametrize("name", sorted(APPS))
def test_document_matches_snapshot(name: str) -> None:
    document = APPS[name]().openapi()
    validate(document)
    path = SNAPSHOTS / f"{name}.json"
    rendered = json.dumps(document, indent=2, sort_keys=False) + "\n"
    if os.environ.get("TRIVIUM_UPDATE_SNAPSHOTS"):
        path.write_text(rendered, encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert document == expected
