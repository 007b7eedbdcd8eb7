"""The server-rendered to-do pages: list, detail, create, edit and delete.

Every page needs a login (`LoginRequired`), and a user only ever sees and changes their
own to-dos: the list is filtered by owner, and `load` answers 404 for someone else's
to-do, as for one that does not exist (so ids of other users' to-dos tell nothing).
Every form posts its CSRF token (`form.render()` draws it, the delete button uses
`csrf_input()`), and every successful post redirects (303) to a page that shows a flash
message, and tells the user's other windows (`/todos/events`, a channel per user) to
refresh their list once the change is committed.
"""

from __future__ import annotations

from typing import Annotated
from typing import Any
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from examples.demo.accounts import PAGE
from examples.demo.config import Session
from examples.demo.forms import TodoForm
from examples.demo.models import Todo
from trivium import BackgroundTasks
from trivium import HTTPException
from trivium import Path
from trivium import Query
from trivium import Request
from trivium import Router
from trivium.auth import LoginRequired
from trivium.channels import ChannelsDep
from trivium.responses import EventSourceResponse
from trivium.responses import HTMLResponse
from trivium.responses import RedirectResponse
from trivium.templating import flash
from trivium.templating import render

router = Router(prefix="/todos")
# An id the column cannot hold answers 422, not a 500 from the driver (INTEGER: 32 bits).
TodoId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Show = Annotated[Literal["all", "open", "done"], Query()]


async def load(session: AsyncSession, todo_id: int, user: Any) -> Todo:
    """Return the user's to-do with its owner, or raise 404 (an HTML page for browsers)."""
    todo = await session.get(Todo, todo_id, options=[selectinload(Todo.owner)])
    if todo is None or todo.owner_id != user.id:  # someone else's: as if it did not exist
        raise HTTPException(404, f"There is no to-do {todo_id}.")
    return todo


def announce(background: BackgroundTasks, channels: ChannelsDep, user: Any, change: str) -> None:
    """Publish the change after the response, so after the session's commit."""
    background.add_task(channels.publish, f"todos:{user.id}", {"change": change})


@router.get("/events", name="todo_events", include_in_schema=False)
async def events(
    request: Request, user: LoginRequired, channels: ChannelsDep
) -> EventSourceResponse:
    return await channels.event_source(request, f"todos:{user.id}")


@router.get("", name="todo_list", **PAGE)
async def todo_list(
    request: Request, session: Session, user: LoginRequired, show: Show = "all"
) -> HTMLResponse:
    query = Todo.objects(session).filter(owner_id=user.id).order_by("done", "-created_at", "-id")
    if show != "all":
        query = query.filter(done=show == "done")
    todos = await query.all()
    return await render(request, "todos/list.html", {"todos": todos, "show": show})


@router.get("/new", name="todo_new", **PAGE)
async def new_page(request: Request, user: LoginRequired) -> HTMLResponse:
    del user
    form = TodoForm.empty(request=request)
    return await render(request, "todos/form.html", {"form": form, "todo": None})


@router.post("/new", **PAGE)
async def create(  # noqa: PLR0913 - the page's connection, data and announcement
    request: Request,
    session: Session,
    user: LoginRequired,
    background: BackgroundTasks,
    channels: ChannelsDep,
) -> HTMLResponse | RedirectResponse:
    form = await TodoForm.from_request(request)
    if not form.is_valid:  # drawn again with the errors and what was typed
        context = {"form": form, "todo": None}
        return await render(request, "todos/form.html", context, status_code=422)
    todo = Todo(**form.data.model_dump(), owner_id=user.id)
    session.add(todo)
    await session.flush()
    announce(background, channels, user, "created")
    flash(request, f"Added “{todo.title}”.", "success")
    return RedirectResponse(request.app.url_path_for("todo_list"), 303)


@router.get("/{todo_id}", name="todo_detail", **PAGE)
async def detail(
    request: Request, session: Session, todo_id: TodoId, user: LoginRequired
) -> HTMLResponse:
    todo = await load(session, todo_id, user)
    return await render(request, "todos/detail.html", {"todo": todo})


@router.route("/{todo_id}/edit", methods=["GET", "POST"], name="todo_edit", **PAGE)
async def edit(  # noqa: PLR0913 - the page's connection, data and announcement
    request: Request,
    session: Session,
    todo_id: TodoId,
    user: LoginRequired,
    background: BackgroundTasks,
    channels: ChannelsDep,
) -> HTMLResponse | RedirectResponse:
    todo = await load(session, todo_id, user)
    # A GET shows the stored values; a POST binds what was sent.
    form = await TodoForm.from_request(request, initial=todo)
    if not form.is_valid:
        status = 422 if form.is_bound else 200
        context = {"form": form, "todo": todo}
        return await render(request, "todos/form.html", context, status_code=status)
    for name, value in form.data.model_dump().items():
        setattr(todo, name, value)
    announce(background, channels, user, "updated")
    flash(request, f"Saved “{todo.title}”.", "success")
    return RedirectResponse(request.app.url_path_for("todo_detail", todo_id=todo.id), 303)


@router.post("/{todo_id}/delete", name="todo_delete", **PAGE)
async def delete(  # noqa: PLR0913 - the page's connection, data and announcement
    request: Request,
    session: Session,
    todo_id: TodoId,
    user: LoginRequired,
    background: BackgroundTasks,
    channels: ChannelsDep,
) -> RedirectResponse:
    todo = await load(session, todo_id, user)
    await session.delete(todo)
    announce(background, channels, user, "deleted")
    flash(request, f"Deleted “{todo.title}”.", "info")
    return RedirectResponse(request.app.url_path_for("todo_list"), 303)
