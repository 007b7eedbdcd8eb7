"""A FastAPI application ported to trivium by changing its import lines only.

Everything below the imports is FastAPI code as a FastAPI user writes it: routers,
path/query/header/body parameters, dependencies with `yield`, response models,
`HTTPException`, an exception handler and background tasks. The original imports were:

    from fastapi import APIRouter
    from fastapi import BackgroundTasks
    from fastapi import Body
    from fastapi import Depends
    from fastapi import FastAPI
    from fastapi import Header
    from fastapi import HTTPException
    from fastapi import Path
    from fastapi import Query
    from fastapi import Request
    from fastapi import status
    from fastapi.responses import JSONResponse

`tests/e2e/test_fastapi_port.py` runs its tests against this module, and (when FastAPI is
installed) against the same body under the FastAPI imports, to prove the two agree.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Annotated
from typing import Any

from pydantic import BaseModel
from pydantic import Field

# The port: trivium's names for FastAPI's. `App` and `Router` are imported under the
# names FastAPI code uses, so the body of the module is unchanged.
from trivium import App as FastAPI
from trivium import BackgroundTasks
from trivium import Body
from trivium import Depends
from trivium import Header
from trivium import HTTPException
from trivium import Path
from trivium import Query
from trivium import Request
from trivium import Router as APIRouter
from trivium import status
from trivium.responses import JSONResponse

# --- the "database" -----------------------------------------------------------------------


class Database:
    """An in-memory store that records what the tests need to see (sessions, audit log)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.items: dict[int, dict[str, Any]] = {}
        self.ids = itertools.count(1)
        self.events: list[str] = []
        self.audit: list[str] = []
        self.users: dict[str, dict[str, Any]] = {
            "alice-token": {"username": "alice", "full_name": "Alice A.", "password_hash": "x1"},
            "bob-token": {"username": "bob", "full_name": None, "password_hash": "x2"},
        }


db = Database()


class Session:
    """A unit of work: changes are kept only when the request succeeds."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.pending: dict[int, dict[str, Any] | None] = {}

    def get(self, item_id: int) -> dict[str, Any] | None:
        if item_id in self.pending:
            return self.pending[item_id]
        return self.database.items.get(item_id)

    def put(self, item_id: int, item: dict[str, Any] | None) -> None:
        self.pending[item_id] = item

    def commit(self) -> None:
        for item_id, item in self.pending.items():
            if item is None:
                self.database.items.pop(item_id, None)
            else:
                self.database.items[item_id] = item
        self.pending.clear()


# --- schemas ------------------------------------------------------------------------------


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    price: float = Field(gt=0)
    tags: list[str] = []
    supplier_secret: str | None = None


class ItemOut(BaseModel):
    id: int
    name: str
    price: float
    tags: list[str]
    owner: str


class ItemPatch(BaseModel):
    name: str | None = None
    price: float | None = Field(default=None, gt=0)
    tags: list[str] | None = None


class User(BaseModel):
    username: str
    full_name: str | None = None


class ItemLockedError(Exception):
    def __init__(self, item_id: int) -> None:
        self.item_id = item_id


# --- dependencies -------------------------------------------------------------------------


def get_session() -> Iterator[Session]:
    session = Session(db)
    db.events.append("session opened")
    try:
        yield session
        session.commit()
        db.events.append("session committed")
    except Exception:
        db.events.append("session rolled back")
        raise
    finally:
        db.events.append("session closed")


def get_current_user(x_token: Annotated[str, Header()]) -> User:
    record = db.users.get(x_token)
    if record is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid X-Token header",
            headers={"WWW-Authenticate": "Token"},
        )
    return User(**record)


class Pagination:
    def __init__(
        self,
        skip: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> None:
        self.skip = skip
        self.limit = limit


SessionDep = Annotated[Session, Depends(get_session)]
CurrentUser = Annotated[User, Depends(get_current_user)]


def write_audit(message: str) -> None:
    db.audit.append(message)


# --- routers ------------------------------------------------------------------------------

items = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(get_current_user)])


@items.get("/", response_model=list[ItemOut])
def list_items(
    session: SessionDep,
    page: Annotated[Pagination, Depends()],
    q: Annotated[str | None, Query(max_length=20)] = None,
) -> list[dict[str, Any]]:
    found = [item for item in session.database.items.values() if q is None or q in item["name"]]
    return found[page.skip : page.skip + page.limit]


@items.get("/{item_id}", response_model=ItemOut)
def read_item(item_id: Annotated[int, Path(gt=0)], session: SessionDep) -> dict[str, Any]:
    item = session.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"Item {item_id} not found")
    return item


@items.post("/", response_model=ItemOut, status_code=status.HTTP_201_CREATED)
async def create_item(
    item: ItemIn,
    user: CurrentUser,
    session: SessionDep,
    background_tasks: BackgroundTasks,
) -> dict[str, Any]:
    item_id = next(db.ids)
    record = {"id": item_id, **item.model_dump(), "owner": user.username}
    session.put(item_id, record)
    background_tasks.add_task(write_audit, f"{user.username} created item {item_id}")
    return record


@items.patch("/{item_id}", response_model=ItemOut)
def update_item(
    item_id: int, patch: ItemPatch, user: CurrentUser, session: SessionDep
) -> dict[str, Any]:
    item = session.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"Item {item_id} not found")
    if item["owner"] != user.username:
        raise ItemLockedError(item_id)
    updated = {**item, **patch.model_dump(exclude_unset=True)}
    session.put(item_id, updated)
    return updated


@items.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_item(item_id: int, user: CurrentUser, session: SessionDep) -> None:
    item = session.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"Item {item_id} not found")
    if item["owner"] != user.username:
        raise ItemLockedError(item_id)
    session.put(item_id, None)


@items.post("/{item_id}/price")
def reprice(
    item_id: int,
    session: SessionDep,
    price: Annotated[float, Body(gt=0)],
    reason: Annotated[str, Body(min_length=3)],
) -> dict[str, Any]:
    item = session.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"Item {item_id} not found")
    session.put(item_id, {**item, "price": price})
    return {"id": item_id, "price": price, "reason": reason}


users = APIRouter(prefix="/users", tags=["users"])


@users.get("/me", response_model=User)
def read_me(user: CurrentUser) -> User:
    return user


@users.get("/me/items", response_model=list[ItemOut])
def my_items(user: CurrentUser, session: SessionDep) -> list[dict[str, Any]]:
    return [item for item in session.database.items.values() if item["owner"] == user.username]


# --- the application ----------------------------------------------------------------------


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    db.events.append("startup")
    yield
    db.events.append("shutdown")


app = FastAPI(title="Inventory", lifespan=lifespan)


@app.exception_handler(ItemLockedError)
async def item_locked(request: Request, exc: ItemLockedError) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_409_CONFLICT,
        content={"detail": f"Item {exc.item_id} belongs to someone else"},
    )


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


app.include_router(items)
app.include_router(users)
