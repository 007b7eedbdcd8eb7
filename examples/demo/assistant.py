"""The to-do assistant: three curated MCP tools over the user's to-dos, at `/mcp`.

An MCP client (an agent, Claude Desktop, the `mcp` SDK) connects with an API token made
at `/auth/tokens` (`Authorization: Token trv_...`): each tool call runs in-process as that
user, through the same session, validation and ownership checks as the API.
"""

from __future__ import annotations

import datetime
from typing import Annotated

from pydantic import BaseModel
from pydantic import Field
from sqlalchemy import select

from examples.demo.config import Session
from examples.demo.models import Priority
from examples.demo.models import Todo
from trivium import HTTPException
from trivium import Path
from trivium import Router
from trivium.auth import CurrentUser


class TodoOut(BaseModel):
    """A to-do as the assistant sees it."""

    id: int
    title: str
    done: bool
    due: datetime.date | None
    priority: Priority


def _out(todo: Todo) -> TodoOut:
    return TodoOut(
        id=todo.id, title=todo.title, done=todo.done, due=todo.due, priority=todo.priority
    )


# --8<-- [start:tools]
router = Router(prefix="/assistant", tags=["assistant"], mcp=True)
# An id the column cannot hold answers 422, not a 500 from the driver (INTEGER: 32 bits).
TodoId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/todos")
async def list_todos(
    session: Session, user: CurrentUser, done: bool | None = None
) -> list[TodoOut]:
    """List my to-dos, newest first; `done` filters finished or open ones."""
    query = select(Todo).where(Todo.owner_id == user.id).order_by(Todo.id.desc())
    if done is not None:
        query = query.where(Todo.done == done)
    return [_out(todo) for todo in (await session.scalars(query)).all()]


@router.post("/todos", status_code=201)
async def add_todo(
    session: Session,
    user: CurrentUser,
    title: Annotated[str, Field(min_length=1, max_length=200)],
    due: datetime.date | None = None,
    priority: Priority = Priority.NORMAL,
) -> TodoOut:
    """Add a to-do for me, with an optional due date and priority."""
    todo = Todo(title=title, due=due, priority=priority, owner_id=user.id)
    session.add(todo)
    await session.flush()
    return _out(todo)


@router.post("/todos/{todo_id}/done")
async def complete_todo(session: Session, user: CurrentUser, todo_id: TodoId) -> TodoOut:
    """Mark one of my to-dos as done."""
    todo = await session.get(Todo, todo_id)
    if todo is None or todo.owner_id != user.id:
        raise HTTPException(404, f"There is no to-do {todo_id}.")
    todo.done = True
    await session.flush()
    return _out(todo)


# --8<-- [end:tools]
