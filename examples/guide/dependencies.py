"""Dependency injection, as shown in docs/dependencies.md."""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Annotated

from trivium import App
from trivium import BackgroundTasks
from trivium import Depends
from trivium import Header
from trivium import HTTPException
from trivium import Query

events: list[str] = []  # what the dependencies did, in order (read by the tests)


# --8<-- [start:basics]
class Page:
    """A class is a dependency too: its __init__ parameters are request parameters."""

    def __init__(
        self,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> None:
        self.offset = offset
        self.limit = limit


def current_user(x_user: Annotated[str | None, Header()] = None) -> str:
    if x_user is None:
        raise HTTPException(401, "Send an X-User header", headers={"WWW-Authenticate": "X-User"})
    return x_user


User = Annotated[str, Depends(current_user)]
# --8<-- [end:basics]


# --8<-- [start:yield]
class Connection:
    def __init__(self, name: str) -> None:
        self.name = name


async def connect() -> AsyncIterator[Connection]:
    events.append("connect")  # runs when a request first needs it
    yield Connection("pool-1")  # shared by every request of the app
    events.append("disconnect")  # runs at app shutdown


def transaction(conn: Annotated[Connection, Depends(connect, scope="app")]) -> Iterator[str]:
    events.append("begin")
    try:
        yield f"tx on {conn.name}"
    except HTTPException:
        events.append("rollback")  # the handler's exception is raised at the `yield`
        raise
    else:
        events.append("commit")  # scope="function": before the response is sent


def audit_log(user: User) -> Iterator[None]:
    try:
        yield
    finally:
        events.append(f"audit {user}")  # scope="request" (default): after the response


Transaction = Annotated[str, Depends(transaction, scope="function")]
# --8<-- [end:yield]


# --8<-- [start:app]
app = App(dependencies=[Depends(audit_log)])  # runs for every route of the app


@app.get("/books")
def books(user: User, page: Annotated[Page, Depends()], tx: Transaction) -> dict[str, object]:
    return {"user": user, "offset": page.offset, "limit": page.limit, "tx": tx}


@app.post("/books/{book_id}/loan")
def lend(book_id: int, user: User, tx: Transaction, tasks: BackgroundTasks) -> dict[str, object]:
    if book_id > 100:
        raise HTTPException(404, f"Book {book_id} not found")
    tasks.add_task(events.append, f"email {user} about book {book_id}")
    return {"book_id": book_id, "tx": tx}


# --8<-- [end:app]


# --8<-- [start:cache]
def random_token() -> object:
    return object()


@app.get("/tokens")
def tokens(
    a: Annotated[object, Depends(random_token)],
    b: Annotated[object, Depends(random_token)],
    c: Annotated[object, Depends(random_token, use_cache=False)],
) -> dict[str, bool]:
    return {"a is b": a is b, "a is c": a is c}


# --8<-- [end:cache]


# --8<-- [start:resolve]
def pool(conn: Annotated[Connection, Depends(connect, scope="app")]) -> Connection:
    return conn


async def main() -> str:
    """Use the app's dependencies outside a request: in a script, a CLI command, a worker."""
    # lifespan_context(): start-up, and at exit the shutdown that closes app-scoped values;
    # resolve(pool): the same connection that requests get.
    async with app.lifespan_context(), app.resolve(pool) as conn:
        connection: Connection = conn
        return connection.name


# --8<-- [end:resolve]
