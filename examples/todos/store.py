"""The example's storage: an in-memory to-do store with transactions.

It stands in for a database so that the example runs with no set-up. The dependencies at
the bottom are what the routes use: one store per application (`scope="app"`), one
transaction per request that commits when the handler succeeds and rolls back when it
raises.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Annotated

from pydantic import BaseModel

from trivium import Depends


class Todo(BaseModel):
    id: int
    title: str
    done: bool = False
    notes: str | None = None


class TodoStore:
    """To-dos by id, plus an activity log written by background tasks."""

    def __init__(self) -> None:
        self.todos: dict[int, Todo] = {}
        self.activity: list[str] = []
        self._ids = itertools.count(1)
        self.closed = False

    def next_id(self) -> int:
        return next(self._ids)

    def record(self, message: str) -> None:
        self.activity.append(message)

    def close(self) -> None:
        self.closed = True


class Transaction:
    """Changes made during one request, applied to the store only on `commit()`."""

    def __init__(self, store: TodoStore) -> None:
        self.store = store
        self._changes: dict[int, Todo | None] = {}

    def get(self, todo_id: int) -> Todo | None:
        if todo_id in self._changes:
            return self._changes[todo_id]
        return self.store.todos.get(todo_id)

    def all(self) -> list[Todo]:
        merged = {**self.store.todos, **self._changes}
        return [todo for _, todo in sorted(merged.items()) if todo is not None]

    def put(self, todo: Todo) -> None:
        self._changes[todo.id] = todo

    def delete(self, todo_id: int) -> None:
        self._changes[todo_id] = None

    def commit(self) -> None:
        for todo_id, todo in self._changes.items():
            if todo is None:
                self.store.todos.pop(todo_id, None)
            else:
                self.store.todos[todo_id] = todo
        self._changes.clear()


# --8<-- [start:dependencies]
async def open_store() -> AsyncIterator[TodoStore]:
    """Create the store on first use; close it when the app shuts down."""
    store = TodoStore()
    for title in ("Read the trivium docs", "Write a handler", "Ship it"):
        todo_id = store.next_id()
        store.todos[todo_id] = Todo(id=todo_id, title=title)
    yield store
    store.close()


StoreDep = Annotated[TodoStore, Depends(open_store, scope="app")]


def transaction(store: StoreDep) -> Iterator[Transaction]:
    """Commit when the handler returns; roll back (discard) when it raises."""
    tx = Transaction(store)
    yield tx  # an exception raised by the handler is re-raised here
    tx.commit()


# "function" scope: the commit runs before the response is sent, so a failing commit
# still becomes the response instead of happening after the client got a 200.
TransactionDep = Annotated[Transaction, Depends(transaction, scope="function")]
# --8<-- [end:dependencies]
