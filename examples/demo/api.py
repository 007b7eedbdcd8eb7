"""The JSON API at `/api/todos`, written by `crud_router` from the `Todo` model.

Every call needs a logged-in user, and each user sees and changes only their own to-dos:
`row_filter=own_todos` limits every query to `owner_id = <the user>` (someone else's
to-do is a 404, as if it did not exist) and makes the user the owner of what they create.
With the session cookie of the login page, a write also needs the CSRF token in the
`x-csrf-token` header (the pages have it in their forms); an API token
(`Authorization: Token trv_...`, see `trivium.auth`) needs none.
"""

from __future__ import annotations

import datetime
from typing import Annotated
from typing import Any
from typing import Self

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import model_validator
from pydantic.json_schema import SkipJsonSchema

from examples.demo.models import Priority
from examples.demo.models import Todo
from trivium.auth import CurrentUser
from trivium.db import CRUDRouter
from trivium.db import Database
from trivium.db import crud_router

# No NUL characters: PostgreSQL refuses them in text columns.
Title = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
Notes = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]


class TodoIn(BaseModel):
    """The body of `POST` and `PUT`: only `title` is required."""

    model_config = ConfigDict(extra="forbid")
    title: Title
    notes: Notes = ""
    done: bool = False
    due: datetime.date | None = None
    priority: Priority = Priority.NORMAL


def _keep(schema: dict[str, Any]) -> None:
    # Left out, a field keeps its value: `None` is not a value to document as its default.
    schema.pop("default", None)


class TodoPatch(BaseModel):
    """The body of `PATCH`: the fields sent change, the others stay (`null` only for `due`)."""

    model_config = ConfigDict(extra="forbid")
    title: Title | SkipJsonSchema[None] = Field(None, json_schema_extra=_keep)
    notes: Notes | SkipJsonSchema[None] = Field(None, json_schema_extra=_keep)
    done: bool | SkipJsonSchema[None] = Field(None, json_schema_extra=_keep)
    due: datetime.date | None = None
    priority: Priority | SkipJsonSchema[None] = Field(None, json_schema_extra=_keep)

    @model_validator(mode="after")
    def refuse_nulls(self) -> Self:
        """Only `due` may be set to `null`; leave a field out to keep its value."""
        nulls = [
            name for name in sorted(self.model_fields_set - {"due"}) if getattr(self, name) is None
        ]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} may not be null")
        return self


def own_todos(user: CurrentUser) -> dict[str, Any]:
    """Limit the API to the user's own to-dos (401 in JSON for anonymous requests).

    `CurrentUser` is trivium.auth's guard: the operations document its security scheme,
    so Swagger UI's "Authorize" (an API token) applies to them.
    """
    return {"owner_id": user.id}


# --8<-- [start:router]
def todo_api(db: Database) -> CRUDRouter:
    """Return list/create/read/replace/update/delete for `Todo` under `/api/todos`."""
    return crud_router(
        Todo,
        db,
        prefix="/api/todos",
        tags=["todos"],
        read_only={"owner_id"},
        create_schema=TodoIn,
        update_schema=TodoPatch,
        filters=["done", "priority", "due__lte", "title__icontains"],
        ordering=["created_at", "due", "priority", "title"],
        default_ordering=["-created_at", "-id"],
        search=["title", "notes"],
        row_filter=own_todos,  # each user's to-dos only, and theirs when created
    )


# --8<-- [end:router]
