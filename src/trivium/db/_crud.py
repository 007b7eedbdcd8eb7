"""`crud_router`: one call turns a model into a typed, documented REST resource.

The handlers are built at start-up as ordinary typed functions (a real `__signature__`
with `Annotated` parameters), so the core validates their input, and the OpenAPI
document describes them, exactly as it does hand-written handlers. Writes flush inside a
savepoint: a unique or foreign-key violation rolls back only that savepoint, leaving the
session usable to find out which field was at fault, and is answered with a 409.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any
from typing import Literal
from typing import TypedDict

from pydantic import BaseModel
from sqlalchemy import ForeignKeyConstraint
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ClauseElement
from typing_extensions import Unpack

from trivium.db._crud_checks import check_options
from trivium.db._crud_checks import check_schema
from trivium.db._crud_checks import filled_by_row_filter
from trivium.db._crud_checks import model_attributes
from trivium.db._crud_checks import primary_key
from trivium.db._crud_values import json_columns
from trivium.db._crud_values import location
from trivium.db._crud_values import sql_nulls
from trivium.db._crud_writes import check_datetimes
from trivium.db._crud_writes import delete_row
from trivium.db._crud_writes import whole_second_columns
from trivium.db._errors import FOREIGN_KEY
from trivium.db._errors import Violation
from trivium.db._errors import classify
from trivium.db._errors import conflict_message
from trivium.db._etag import Versioned
from trivium.db._etag import check_if_match
from trivium.db._etag import etag
from trivium.db._etag import etag_matches
from trivium.db._listing import ListPlan
from trivium.db._lookups import QueryError
from trivium.db._schemas import CRUDSchemas
from trivium.db._schemas import build_schemas
from trivium.db._schemas import hidden_required_error
from trivium.db._schemas import noun
from trivium.db._schemas import reset_values
from trivium.errors import HTTPException
from trivium.http import Request
from trivium.http import Response
from trivium.params import Body
from trivium.params import Path
from trivium.routing import Router

if TYPE_CHECKING:
    from trivium.db._database import Database
    from trivium.di import Depends

__all__ = ["Action", "CRUDOptions", "CRUDRouter", "crud_router"]

Action = Literal["list", "create", "read", "replace", "update", "delete"]
"""An operation of a CRUD router."""

ACTIONS: tuple[Action, ...] = ("list", "create", "read", "replace", "update", "delete")
Where = Mapping[str, Any] | None


class CRUDError(BaseModel):
    """The body of a CRUD error response."""

    detail: str


class CRUDOptions(TypedDict, total=False):
    """Options of `crud_router` (all optional)."""

    prefix: str
    """The collection path (default `/<table name>`); items live at `<prefix>/{id}`."""
    tags: list[str]
    """OpenAPI tags of every operation."""
    dependencies: Sequence[Depends]
    """Dependencies run before every operation (authentication, permissions...)."""
    actions: Collection[Action]
    """The operations to offer (default: all six)."""
    exclude: Collection[str]
    """Columns never read nor written through the API (e.g. `password_hash`)."""
    read_only: Collection[str]
    """Columns returned but never written (the primary key and timestamps already are)."""
    filters: Sequence[str]
    """List filters: `"published"` (exact) or `"title__icontains"`, `"pages__gte"`, ..."""
    ordering: Sequence[str]
    """Columns the client may order the list by (`?ordering=-created_at,title`)."""
    default_ordering: Sequence[str]
    """The list order when the client gives none (default: primary key ascending)."""
    search: Sequence[str]
    """Columns searched, case-insensitively, by `?search=` (others than text in their text form)."""
    page_size: int
    """Default page size of the list (20)."""
    max_page_size: int
    """The largest `size` a client may ask for (100)."""
    create_schema: type[BaseModel]
    """Your own body schema for `POST` and `PUT`, instead of the generated one."""
    update_schema: type[BaseModel]
    """Your own body schema for `PATCH`."""
    read_schema: type[BaseModel]
    """Your own response schema."""
    require_if_match: bool
    """Answer `PUT`, `PATCH` and `DELETE` without an `If-Match` header with a 428 (default `False`)."""
    row_filter: Callable[..., Any]
    """A dependency returning `{column: value}` that every row of the request must match.

    Rows that do not match are invisible (404, left out of lists) and new rows get the
    values: `row_filter=lambda user: {"owner_id": user.id}` with a `CurrentUser`
    parameter serves each user their own rows only. It may fill in required read-only or
    excluded columns: that is checked on each create, once its keys are known. See
    docs/crud.md.
    """


class CRUDRouter(Router):
    """A `Router` holding the CRUD operations of one model, and their schemas."""

    def __init__(self, model: type[Any], schemas: CRUDSchemas, **options: Any) -> None:
        super().__init__(**options)
        self.model = model
        """The model served."""
        self.schemas = schemas
        """The request and response schemas of the operations."""


def _plural(word: str) -> str:
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


@dataclasses.dataclass(slots=True)
class _Resource:
    """The compiled configuration of one CRUD router; its methods are the handlers."""

    model: type[Any]
    db: Database
    schemas: CRUDSchemas
    pk: str
    pk_type: Any
    listing: ListPlan
    reset: dict[str, Any]
    require_if_match: bool = False
    row_filter: Callable[..., Any] | None = None
    filled: tuple[str, ...] = ()
    """Hidden columns an insert needs, which the `row_filter` must return."""
    json: frozenset[str] = frozenset()
    """The JSON columns, whose `None` is stored as SQL `NULL` (not JSON's `null`)."""
    whole_seconds: frozenset[str] = frozenset()
    """The `Interval` columns the database stores in whole seconds (MariaDB, MySQL)."""

    @property
    def name(self) -> str:
        return str(self.model.__name__)

    def session_param(self) -> inspect.Parameter:
        return _param("_session", Annotated[AsyncSession, self.db.depends()])

    def pk_param(self) -> inspect.Parameter:
        return _param(self.pk, Annotated[self.pk_type, Path()])

    def where_param(self) -> list[inspect.Parameter]:
        """The `row_filter` dependency's parameter, if there is one."""
        if self.row_filter is None:
            return []
        from trivium.di import Depends

        return [_param("_where", Annotated[dict[str, Any], Depends(self.row_filter)])]

    def scope(self, where: Where) -> dict[str, Any]:
        """Return the `row_filter`'s values, after checking they name attributes of the model.

        Raises:
            QueryError: a key is not a column or relationship (a typo would otherwise
                create rows outside every scope).
        """
        if not where:
            return {}
        values = dict(where)
        attributes = model_attributes(self.model)
        unknown = sorted(set(values).difference(attributes))
        if unknown:
            raise QueryError(
                f"crud_router({self.name}): row_filter {_callable_name(self.row_filter)} "
                f"returned {unknown}, which are not fields of {self.name}; "
                f"fields: {', '.join(attributes)}"
            )
        return values

    async def get(
        self, session: AsyncSession, key: Any, *, lock: bool = False, where: Where = None
    ) -> Any:
        where = self.scope(where)
        row = await session.get(self.model, key, with_for_update=lock or None)
        if row is None or any(getattr(row, k) != v for k, v in where.items()):
            raise HTTPException(404, f"{self.name} {key} not found")
        return row

    def etag(self, row: Any) -> str:
        return etag(row, self.schemas.read)

    async def checked(
        self, session: AsyncSession, request: Request, key: Any, where: Where = None
    ) -> Any:
        """Return the row to change, after checking the request's `If-Match` against it.

        With `If-Match`, the row is locked until the transaction ends, so no other
        write can slip in between the check and this one. A `Versioned` row is always
        locked: read unlocked, a concurrent write would make its version check fail (a
        412 to a request that set no precondition).
        """
        lock = "if-match" in request.headers or issubclass(self.model, Versioned)
        row = await self.get(session, key, lock=lock, where=where)
        check_if_match(request, self.etag(row), required=self.require_if_match)
        return row

    def stale(self) -> HTTPException:
        return HTTPException(
            412, f"the {noun(self.model)} changed while it was being written; read it again"
        )

    async def write(self, session: AsyncSession, row: Any, values: dict[str, Any]) -> None:
        """Set `values` on `row` and flush it in a savepoint; a violation becomes a 409."""
        check_datetimes(values, self.whole_seconds)
        values = sql_nulls(values, self.json)
        try:
            # Changes made before `begin_nested()` would be flushed outside the savepoint.
            async with session.begin_nested():
                for name, value in values.items():
                    setattr(row, name, value)
                session.add(row)
                await session.flush()
        except IntegrityError as exc:
            violation = await self.violation(session, exc, values)
            raise HTTPException(409, conflict_message(violation)) from None
        except StaleDataError:
            raise self.stale() from None
        await session.refresh(row)

    async def violation(
        self, session: AsyncSession, exc: IntegrityError, values: dict[str, Any]
    ) -> Violation:
        table = sa_inspect(self.model).local_table
        found = classify(exc, table=table)
        if found.kind != FOREIGN_KEY or found.constraint is not None:
            return found
        # SQLite does not say which reference failed: look for the missing row.
        mapper = sa_inspect(self.model)
        for fk in table.constraints:
            if not isinstance(fk, ForeignKeyConstraint) or len(fk.elements) != 1:
                continue
            element = fk.elements[0]
            key = mapper.get_property_by_column(element.parent).key
            value = values.get(key)
            if value is None or isinstance(value, ClauseElement):
                continue
            query = select(element.column).where(element.column == value).limit(1)
            if (await session.execute(query)).first() is None:
                return Violation(FOREIGN_KEY, table, (key,), fk)
        return found

    async def list(
        self, _session: AsyncSession, _where: Where = None, **params: Any
    ) -> dict[str, Any]:
        query = self.model.objects(_session).filter(**self.scope(_where))
        query = self.listing.apply(query, params)
        page = await query.paginate(params["page"], params["size"])
        read = self.schemas.read
        return {
            "items": [read.model_validate(row) for row in page.items],
            "total": page.total,
            "page": page.page,
            "size": page.size,
            "pages": page.pages,
        }

    async def read(
        self,
        _session: AsyncSession,
        _request: Request,
        _response: Response,
        _where: Where = None,
        **params: Any,
    ) -> Any:
        row = await self.get(_session, params[self.pk], where=_where)
        tag = self.etag(row)
        if_none_match = _request.headers.get("if-none-match")
        if if_none_match is not None and _weak_listed(if_none_match, tag):
            return Response(status_code=304, headers={"etag": tag})
        _response.headers["etag"] = tag
        return self.schemas.read.model_validate(row)

    async def create(
        self,
        _session: AsyncSession,
        _request: Request,
        _response: Response,
        body: BaseModel,
        _where: Where = None,
    ) -> BaseModel:
        where = self.scope(_where)
        missing = [name for name in self.filled if name not in where]
        if missing:
            # Only knowable now: the row_filter's keys are known once it has run.
            raise hidden_required_error(self.model, missing[0])
        values = {**body.model_dump(exclude_unset=True), **where}
        row = self.model()
        await self.write(_session, row, values)
        key = getattr(row, self.pk)
        _response.headers["location"] = location(_request.url.path, key)
        _response.headers["etag"] = self.etag(row)
        return self.schemas.read.model_validate(row)

    async def change(  # noqa: PLR0913 - the handler's parts, passed on
        self,
        session: AsyncSession,
        request: Request,
        response: Response,
        key: Any,
        values: Any,
        where: Where = None,
    ) -> BaseModel:
        row = await self.checked(session, request, key, where)
        if values:
            await self.write(session, row, {**values, **(where or {})})
        response.headers["etag"] = self.etag(row)
        return self.schemas.read.model_validate(row)

    async def replace(
        self,
        _session: AsyncSession,
        _request: Request,
        _response: Response,
        body: BaseModel,
        _where: Where = None,
        **params: Any,
    ) -> BaseModel:
        values = {**self.reset, **body.model_dump(exclude_unset=True)}
        return await self.change(_session, _request, _response, params[self.pk], values, _where)

    async def update(
        self,
        _session: AsyncSession,
        _request: Request,
        _response: Response,
        body: BaseModel,
        _where: Where = None,
        **params: Any,
    ) -> BaseModel:
        values = body.model_dump(exclude_unset=True)
        return await self.change(_session, _request, _response, params[self.pk], values, _where)

    async def delete(
        self, _session: AsyncSession, _request: Request, _where: Where = None, **params: Any
    ) -> None:
        key = params[self.pk]
        row = await self.checked(_session, _request, key, _where)
        try:
            async with _session.begin_nested():
                await delete_row(_session, self.model, row, key)
        except StaleDataError:
            raise self.stale() from None
        except IntegrityError as exc:
            violation = classify(exc, table=sa_inspect(self.model).local_table)
            message = conflict_message(violation, deleting=f"{self.name} {key}")
            raise HTTPException(409, message) from None


def _callable_name(call: Any) -> str:
    return f"{getattr(call, '__qualname__', repr(call))}()"


def _weak_listed(header: str, tag: str) -> bool:
    # If-None-Match compares weakly (RFC 9110 §13.1.2).
    return etag_matches(header.replace("W/", ""), tag)


def _param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def _endpoint(
    name: str,
    call: Callable[..., Awaitable[Any]],
    params: list[inspect.Parameter],
    returns: Any,
) -> Callable[..., Any]:
    """Wrap `call` in a handler whose signature the core reads like a hand-written one."""

    async def endpoint(**kwargs: Any) -> Any:
        return await call(**kwargs)

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
    endpoint.__annotations__ = {p.name: p.annotation for p in params} | {"return": returns}
    return endpoint


def _add_routes(router: CRUDRouter, res: _Resource, actions: Collection[Action]) -> None:
    schemas = res.schemas
    words = noun(res.model)
    snake = words.replace(" ", "_")
    one = f"{'an' if words[:1] in 'aeiou' else 'a'} {words}"
    item = f"/{{{res.pk}}}"
    missing: dict[int | str, dict[str, Any]] = {
        404: {"description": f"No such {words}", "model": CRUDError}
    }
    conflict: dict[int | str, dict[str, Any]] = {
        409: {"description": "A unique or foreign-key constraint failed", "model": CRUDError}
    }
    stale: dict[int | str, dict[str, Any]] = {
        412: {"description": "If-Match does not match the current ETag", "model": CRUDError}
    }
    if res.require_if_match:
        stale[428] = {"description": "The If-Match header is missing", "model": CRUDError}
    session, key = res.session_param(), res.pk_param()
    request, response = _param("_request", Request), _param("_response", Response)
    body = {
        "create": _param("body", Annotated[schemas.create, Body()]),
        "replace": _param("body", Annotated[schemas.replace, Body()]),
        "update": _param("body", Annotated[schemas.update, Body()]),
    }
    changes = {**missing, **conflict, **stale}
    routes: dict[Action, tuple[str, list[str], list[inspect.Parameter], Any, dict[str, Any]]] = {
        "list": ("", ["GET"], [session, *res.listing.params()], schemas.page, {}),
        "create": (
            "",
            ["POST"],
            [session, request, response, body["create"]],
            schemas.read,
            {"status_code": 201, "responses": conflict},
        ),
        "read": (
            item,
            ["GET"],
            [session, request, response, key],
            schemas.read,
            {"responses": {**missing, 304: {"description": "If-None-Match names the ETag"}}},
        ),
        "replace": (
            item,
            ["PUT"],
            [session, request, response, key, body["replace"]],
            schemas.read,
            {"responses": changes},
        ),
        "update": (
            item,
            ["PATCH"],
            [session, request, response, key, body["update"]],
            schemas.read,
            {"responses": changes},
        ),
        "delete": (
            item,
            ["DELETE"],
            [session, request, key],
            None,
            {"status_code": 204, "responses": changes},
        ),
    }
    summaries = {
        "list": f"List {_plural(words)}",
        "create": f"Create {one}",
        "read": f"Read {one}",
        "replace": f"Replace {one}",
        "update": f"Update {one} (partial)",
        "delete": f"Delete {one}",
    }
    for action in ACTIONS:
        if action not in actions:
            continue
        path, methods, params, returns, options = routes[action]
        params = [*params, *res.where_param()]
        name = f"{action}_{snake}"
        endpoint = _endpoint(name, getattr(res, action), params, returns)
        router.add_route(path, endpoint, methods, name=name, summary=summaries[action], **options)


def crud_router(model: type[Any], db: Database, **options: Unpack[CRUDOptions]) -> CRUDRouter:
    """Return a router serving `model` as a REST resource: list, create, read, replace, update, delete.

    ```python
    app.include_router(crud_router(Article, db, prefix="/articles", filters=["published"]))
    ```

    Raises:
        ConfigurationError: an option names a column the model does not have, the model
            has a composite primary key, an option is out of range, or a list option
            is a string.
        TypeError: an option is unknown (a misspelt one would otherwise be ignored).
    """
    known = CRUDOptions.__optional_keys__ | CRUDOptions.__required_keys__
    check_options(model, options, known, ACTIONS)
    actions = options.get("actions", ACTIONS)
    for option in ("create_schema", "update_schema"):
        check_schema(model, options.get(option), option)  # type: ignore[arg-type]
    row_filter = options.get("row_filter")
    schemas = build_schemas(
        model,
        options.get("exclude", ()),
        options.get("read_only", ()),
        {
            "create": options.get("create_schema"),
            "update": options.get("update_schema"),
            "read": options.get("read_schema"),
        },
        # A row_filter may fill hidden columns in: checked on create, once its keys are known.
        creates="create" in actions and row_filter is None,
    )
    pk, pk_type = primary_key(model)
    listing = ListPlan.build(model, options, pk)
    resource = _Resource(
        model,
        db,
        schemas,
        pk,
        pk_type,
        listing,
        reset_values(schemas.replace, model),
        bool(options.get("require_if_match", False)),
        row_filter,
        filled_by_row_filter(model, options, actions),
        json_columns(model),
        whole_second_columns(model, db.url.get_backend_name()),
    )
    router = CRUDRouter(
        model,
        schemas,
        prefix=options.get("prefix", f"/{model.__tablename__}"),
        tags=options.get("tags"),
        dependencies=options.get("dependencies"),
    )
    _add_routes(router, resource, actions)
    return router
