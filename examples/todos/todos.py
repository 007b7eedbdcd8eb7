"""The `/todos` API: a router with a class-based view for single to-dos."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel
from pydantic import Field

from examples.todos.store import StoreDep
from examples.todos.store import Todo
from examples.todos.store import TransactionDep
from trivium import BackgroundTasks
from trivium import Depends
from trivium import HTTPException
from trivium import Path
from trivium import Query
from trivium import Router
from trivium import status


class TodoIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)


class TodoPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    done: bool | None = None
    notes: str | None = Field(default=None, max_length=2000)


class TodoOut(BaseModel):
    id: int
    title: str
    done: bool


router = Router(prefix="/todos", tags=["todos"])


# --8<-- [start:list]
@router.get("", response_model=list[TodoOut])
def list_todos(
    tx: TransactionDep,
    done: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Todo]:
    todos = [t for t in tx.all() if done is None or t.done == done]
    return todos[offset : offset + limit]


# --8<-- [end:list]


# --8<-- [start:create]
@router.post("", response_model=Todo, status_code=status.HTTP_201_CREATED)
def create_todo(todo: TodoIn, tx: TransactionDep, store: StoreDep, tasks: BackgroundTasks) -> Todo:
    created = Todo(id=store.next_id(), **todo.model_dump())
    tx.put(created)
    tasks.add_task(store.record, f"created todo {created.id}: {created.title}")
    return created


# --8<-- [end:create]


# --8<-- [start:view]
def load_todo(todo_id: Annotated[int, Path(ge=1)], tx: TransactionDep) -> Todo:
    todo = tx.get(todo_id)
    if todo is None:
        raise HTTPException(404, f"Todo {todo_id} not found")
    return todo


NOT_FOUND = {404: {"description": "No to-do with that id"}}


@router.view("/{todo_id}", responses=NOT_FOUND)
class TodoItem:
    """One to-do. Its class attributes are resolved per request, for every method."""

    todo: Annotated[Todo, Depends(load_todo)]
    tx: TransactionDep

    def get(self) -> Todo:
        return self.todo

    def patch(self, changes: TodoPatch, store: StoreDep, tasks: BackgroundTasks) -> Todo:
        # `null` means "leave as is", like an absent field.
        updated = self.todo.model_copy(update=changes.model_dump(exclude_none=True))
        self.tx.put(updated)
        if changes.done and not self.todo.done:
            tasks.add_task(store.record, f"completed todo {updated.id}")
        return updated


# --8<-- [end:view]


@router.delete("/{todo_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_todo(todo: Annotated[Todo, Depends(load_todo)], tx: TransactionDep) -> None:
    tx.delete(todo.id)
