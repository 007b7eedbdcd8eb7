"""`QuerySet`: Django-style queries (`filter(title__icontains="x")`) built on SQLAlchemy `select`.

A query set is immutable: every refining method returns a new one, so a base query can
be shared and extended. Nothing runs until an `async` terminal method (`all`, `get`,
`count`, ...) is awaited. Field and lookup names are checked when the method is called,
so a typo fails at once with the list of what is available.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Generic
from typing import TypeVar
from typing import cast
from typing import overload

from pydantic import BaseModel
from pydantic import ConfigDict
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import delete as sa_delete
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import load_only
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.expression import ClauseElement

from trivium.db._lookups import LOOKUPS
from trivium.db._lookups import QueryError
from trivium.db._lookups import exact_param
from trivium.db._q import Q
from trivium.db._q import conditions
from trivium.db._q import field
from trivium.db._q import negate
from trivium.db._q import value_columns
from trivium.db._writes import create_or_get
from trivium.db._writes import resolved
from trivium.errors import HTTPException

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import QueryableAttribute
    from sqlalchemy.orm.interfaces import ORMOption
    from sqlalchemy.orm.strategy_options import _AbstractLoad

__all__ = ["LOOKUPS", "NotFound", "Page", "Q", "QueryError", "QuerySet"]

M = TypeVar("M")
T = TypeVar("T")


class NotFound(HTTPException):
    """No row matched `get()`: answered as a 404 when raised from a handler."""

    def __init__(self, model: type[Any]) -> None:
        self.model = model
        """The model that was queried."""
        super().__init__(404, f"{model.__name__} not found")


class Page(BaseModel, Generic[T]):
    """One page of results: the items and where they sit in the whole result.

    Convert a page of models to a page of schemas for a response with
    `Page[ArticleOut].model_validate(page, from_attributes=True)`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, from_attributes=True)

    items: list[T]
    """The rows of this page."""
    total: int
    """How many rows match the query, over all pages."""
    page: int
    """This page's number, from 1."""
    size: int
    """The page size asked for."""

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1)."""
        return max(1, -(-self.total // self.size))


_EQUALITY_STATEMENTS: dict[tuple[type[Any], tuple[str, ...]], Select[Any]] = {}
_EQUALITY_LIMIT = 1024


def _equality_statement(model: type[Any], lookups: dict[str, Any]) -> Select[Any] | None:
    """Return a prepared `select` for `get(field=value, ...)` on plain columns, or `None`.

    `get(id=...)` is the most frequent query of most apps: its statement is built once
    per model and field set, with bound parameters, so each call skips building the
    conditions and SQLAlchemy finds the compiled form in its cache straight away.
    """
    names = tuple(lookups)
    key = (model, names)
    stmt = _EQUALITY_STATEMENTS.get(key)
    if stmt is not None:
        return stmt
    columns = model.__mapper__.column_attrs
    if any(name not in columns for name in names):
        return None  # `field__lookup`, relationships: the general path
    stmt = select(model).where(*(exact_param(getattr(model, name), f"p_{name}") for name in names))
    if len(_EQUALITY_STATEMENTS) < _EQUALITY_LIMIT:
        _EQUALITY_STATEMENTS[key] = stmt
    return stmt


def _bindable(value: Any) -> bool:
    # `None` means IS NULL and an expression compares columns: both need the general path.
    return not (
        value is None or isinstance(value, ClauseElement) or hasattr(value, "__clause_element__")
    )


class QuerySet(Generic[M]):
    """A lazy, immutable query over the rows of `model` in `session`.

    ```python
    recent = await Article.objects(session).filter(published=True).order_by("-id")[:10].all()
    ```
    """

    __slots__ = (
        "_for_update",
        "_limit",
        "_offset",
        "_options",
        "_order",
        "_shape",
        "_where",
        "model",
        "session",
    )

    def __init__(self, model: type[M], session: AsyncSession) -> None:
        self.model: type[Any] = model
        """The model queried."""
        self.session = session
        """The session the query runs in."""
        self._where: tuple[ColumnElement[bool], ...] = ()
        self._order: tuple[Any, ...] = ()
        self._options: tuple[ORMOption, ...] = ()
        self._limit: int | None = None
        self._offset: int | None = None
        self._for_update: bool | str = False
        self._shape: tuple[str, tuple[str, ...]] | None = None

    def _copy(self, **changes: Any) -> QuerySet[M]:
        clone: QuerySet[M] = QuerySet.__new__(QuerySet)
        for name in self.__slots__:
            setattr(clone, name, changes.get(name, getattr(self, name)))
        return clone

    def _is_plain(self) -> bool:
        """Whether nothing refines this query set yet (`Model.objects(session)` as is)."""
        return not (
            self._where
            or self._order
            or self._options
            or self._for_update
            or self._shape
            or self._limit is not None
            or self._offset is not None
        )

    def _conditions(
        self, where: tuple[ColumnElement[bool] | Q, ...], lookups: dict[str, Any]
    ) -> list[ColumnElement[bool]]:
        resolved = [item.resolve(self.model) if isinstance(item, Q) else item for item in where]
        return [*resolved, *conditions(self.model, lookups)]

    def filter(self, *where: ColumnElement[bool] | Q, **lookups: Any) -> QuerySet[M]:
        """Keep rows matching every condition: `field__lookup=value`, `Q` objects or SQLAlchemy expressions.

        Keys may cross relationships (`author__name="Ursula"`) and transform dates
        (`created_at__year__gte=2026`); docs/database.md lists the lookups.
        """
        return self._copy(_where=(*self._where, *self._conditions(where, lookups)))

    def exclude(self, *where: ColumnElement[bool] | Q, **lookups: Any) -> QuerySet[M]:
        """Drop rows matching all the given conditions; rows where they are NULL stay.

        As in Django, `exclude(subtitle="x")` keeps rows whose subtitle is NULL (plain
        SQL `NOT (subtitle = 'x')` would drop them too).
        """
        parts = self._conditions(where, lookups)
        if not parts:
            return self
        return self._copy(_where=(*self._where, negate(and_(*parts))))

    def order_by(self, *fields: str | ColumnElement[Any] | QueryableAttribute[Any]) -> QuerySet[M]:
        """Order by fields (`"-created_at"` for descending) or SQLAlchemy expressions."""
        order: list[Any] = []
        for item in fields:
            if isinstance(item, str):
                descending = item.startswith("-")
                attribute, is_relation = field(self.model, item.lstrip("-"))
                if is_relation:
                    raise QueryError(f"cannot order {self.model.__name__} by relationship {item!r}")
                order.append(attribute.desc() if descending else attribute.asc())
            else:
                order.append(item)
        return self._copy(_order=tuple(order))

    def limit(self, count: int | None) -> QuerySet[M]:
        """Return at most `count` rows."""
        return self._copy(_limit=count)

    def offset(self, count: int | None) -> QuerySet[M]:
        """Skip the first `count` rows."""
        return self._copy(_offset=count)

    @overload
    def __getitem__(self, index: slice) -> QuerySet[M]: ...

    @overload
    def __getitem__(self, index: int) -> Awaitable[M]: ...

    def __getitem__(self, index: slice | int) -> QuerySet[M] | Awaitable[M]:
        """Slice the rows as Django does: `qs[10:20]` is offset 10, limit 10.

        `await qs[3]` returns the fourth row (`IndexError` when there is none). Negative
        indexes and steps are refused, as in Django.
        """
        if isinstance(index, int):
            if index < 0:
                raise QueryError("negative indexing is not supported")
            return self._at(index)
        if index.step not in (None, 1):
            raise QueryError("slicing a query set takes no step")
        start, stop = index.start or 0, index.stop
        if start < 0 or (stop is not None and stop < 0):
            raise QueryError("negative indexing is not supported")
        limit = self._limit
        if limit is not None:
            limit = max(0, limit - start)
        if stop is not None:
            span = max(0, stop - start)
            limit = span if limit is None else min(limit, span)
        offset = (self._offset or 0) + start
        return self._copy(_offset=offset or None, _limit=limit)

    async def _at(self, index: int) -> M:
        rows = await self[index : index + 1].all()
        if not rows:
            raise IndexError(f"query set index {index} out of range")
        return rows[0]

    def prefetch(self, *relations: str) -> QuerySet[M]:
        """Eager-load relationships, nested with `__` (`"author__profile"`).

        Each relationship costs one extra `SELECT ... IN` query.
        """
        options: list[_AbstractLoad] = []
        for path in relations:
            model, loader = self.model, None
            for name in path.split("__"):
                attribute, is_relation = field(model, name)
                if not is_relation:
                    raise QueryError(f"{model.__name__}.{name} is not a relationship")
                loader = (
                    selectinload(attribute) if loader is None else loader.selectinload(attribute)
                )
                model = attribute.property.mapper.class_
            if loader is not None:
                options.append(loader)
        return self._copy(_options=(*self._options, *options))

    def options(self, *options: ORMOption) -> QuerySet[M]:
        """Add SQLAlchemy loader options (`joinedload(...)`, `load_only(...)`)."""
        return self._copy(_options=(*self._options, *options))

    def only(self, *fields: str) -> QuerySet[M]:
        """Load only these columns (and the primary key); reading another one raises.

        Unlike Django, a deferred column is not fetched on access (async code cannot
        load implicitly): it raises `InvalidRequestError`.
        """
        attributes = [self._column(name, "only") for name in fields]
        return self._copy(_options=(*self._options, load_only(*attributes, raiseload=True)))

    def _column(self, name: str, method: str) -> Any:
        attribute, is_relation = field(self.model, name)
        if is_relation:
            raise QueryError(
                f"{method}() takes columns; {self.model.__name__}.{name} is a relationship"
            )
        return attribute

    def _reshape(self, kind: str, fields: tuple[str, ...]) -> QuerySet[Any]:
        if not fields:
            fields = tuple(self.model.__mapper__.column_attrs.keys())
        value_columns(self.model, fields)  # a bad name fails here, not when run
        return cast("QuerySet[Any]", self._copy(_shape=(kind, fields)))

    def values(self, *fields: str) -> QuerySet[dict[str, Any]]:
        """Return rows as dicts of these columns (default: every column of the model).

        Names may follow relationships: `values("title", "author__name")`.
        """
        return self._reshape("dict", fields)

    def values_list(self, *fields: str, flat: bool = False) -> QuerySet[Any]:
        """Return rows as tuples of these columns; `flat=True` with one column: the values."""
        if flat and len(fields) != 1:
            raise QueryError("values_list(flat=True) takes exactly one field")
        return self._reshape("flat" if flat else "tuple", fields)

    def select_for_update(self) -> QuerySet[M]:
        """Lock the selected rows until the transaction ends (`SELECT ... FOR UPDATE`).

        SQLite has no row locks; there the whole database is locked by the transaction.
        """
        return self._copy(_for_update=True)

    @property
    def statement(self) -> Select[Any]:
        """The SQLAlchemy `select` this query runs."""
        if self._shape is None:
            stmt = select(self.model)
        else:
            columns, joins = value_columns(self.model, self._shape[1])
            stmt = select(*columns).select_from(self.model)
            for target, onclause in joins:
                stmt = stmt.outerjoin(target, onclause)
        stmt = stmt.where(*self._where).order_by(*self._order)
        if self._options and self._shape is None:
            stmt = stmt.options(*self._options)
        if self._limit is not None:
            stmt = stmt.limit(self._limit)
        if self._offset is not None:
            stmt = stmt.offset(self._offset)
        if self._for_update:
            stmt = stmt.with_for_update(read=self._for_update == "share")
        return stmt

    def _shaped(self, rows: Iterable[Any]) -> list[Any]:
        if self._shape is None:
            return list(rows)
        kind, names = self._shape
        if kind == "dict":
            return [dict(zip(names, row, strict=True)) for row in rows]
        if kind == "flat":
            return [row[0] for row in rows]
        return [tuple(row) for row in rows]

    async def all(self) -> list[M]:
        """Return every matching row (a model, or what `values()`/`values_list()` ask for)."""
        if self._shape is None:
            return list((await self.session.scalars(self.statement)).all())
        return self._shaped((await self.session.execute(self.statement)).all())

    async def __aiter__(self) -> AsyncIterator[M]:
        """Iterate over the matching rows: `async for row in qs`."""
        for row in await self.all():
            yield row

    async def first(self) -> M | None:
        """Return the first matching row, or `None`."""
        rows = await self.limit(1).all()
        return rows[0] if rows else None

    async def get_or_none(self, *where: ColumnElement[bool] | Q, **lookups: Any) -> M | None:
        """Return the one row matching, or `None`; more than one is an error."""
        if lookups and not where and self._is_plain():
            stmt = _equality_statement(self.model, lookups)
            if stmt is not None and all(_bindable(value) for value in lookups.values()):
                params = {f"p_{name}": value for name, value in lookups.items()}
                found: M | None = (await self.session.scalars(stmt, params)).one_or_none()
                return found
        query = self.filter(*where, **lookups) if where or lookups else self
        if query._shape is None:
            row: M | None = (await self.session.scalars(query.statement)).one_or_none()
            return row
        result = (await self.session.execute(query.statement)).one_or_none()
        return None if result is None else query._shaped([result])[0]

    async def get(self, *where: ColumnElement[bool] | Q, **lookups: Any) -> M:
        """Return the one row matching.

        Raises:
            NotFound: no row matches (a 404 when it leaves a handler).
        """
        row = await self.get_or_none(*where, **lookups)
        if row is None:
            raise NotFound(self.model)
        return row

    async def count(self) -> int:
        """Count the matching rows (ignoring ordering; honouring limit and offset)."""
        query = self._copy(_order=(), _options=(), _for_update=False, _shape=None)
        inner = query.statement.subquery()
        return int(await self.session.scalar(select(func.count()).select_from(inner)) or 0)

    async def exists(self) -> bool:
        """Return whether any row matches (within the slice, when the query is sliced)."""
        query = self._copy(_order=(), _options=(), _for_update=False, _shape=None)
        if query._limit is None and query._offset is None:
            stmt = select(query.limit(1).statement.exists())
        else:
            inner = query.statement.subquery()
            stmt = select(select(literal_column("1")).select_from(inner).exists())
        return bool(await self.session.scalar(stmt))

    async def create(self, **values: Any) -> M:
        """Insert a row with `values` and return it (flushed, so its key is set)."""
        row: M = self.model(**values)
        self.session.add(row)
        await self.session.flush()
        return row

    async def bulk_create(self, rows: Iterable[M | Mapping[str, Any]]) -> list[M]:
        """Insert many rows (models or dicts of values) in batched `INSERT`s; return the models.

        Unlike Django, the keys are set on every database (`RETURNING` or its equivalent).
        """
        models: list[M] = [self.model(**row) if isinstance(row, Mapping) else row for row in rows]
        self.session.add_all(models)
        await self.session.flush()
        return models

    async def get_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> tuple[M, bool]:
        """Return the row matching `lookups`, creating it (with `defaults`) when there is none.

        Returns `(row, created)`. Safe under concurrency when `lookups` name a unique
        constraint: a caller that loses the race to insert rolls back to a savepoint and
        reads the winner's row, so no duplicate is made and no error escapes.
        """
        row = await self.get_or_none(**lookups)
        if row is not None:
            return row, False
        return await create_or_get(self, lookups, defaults, lock="share")

    async def update_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> tuple[M, bool]:
        """Update the row matching `lookups` with `defaults`, or create it; return `(row, created)`.

        The row is read with `SELECT ... FOR UPDATE`, so concurrent callers update it one
        after the other.
        """
        row = await self.get_or_none(**lookups)
        if row is not None:
            row = await self.select_for_update().get(**lookups)
        else:
            row, created = await create_or_get(self, lookups, defaults, lock="update")
            if created:
                return row, True
        for name, value in resolved(defaults).items():
            setattr(row, name, value)
        await self.session.flush()
        return row, False

    async def update(self, **values: Any) -> int:
        """Set `values` on every matching row in one `UPDATE`; return how many rows matched."""
        for name in values:
            field(self.model, name)
        self._check_bulk("update")
        stmt = sa_update(self.model).where(*self._where).values(**values)
        result = await self.session.execute(stmt.execution_options(synchronize_session="fetch"))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def delete(self) -> int:
        """Delete every matching row in one `DELETE`; return how many there were."""
        self._check_bulk("delete")
        stmt = sa_delete(self.model).where(*self._where)
        result = await self.session.execute(stmt.execution_options(synchronize_session="fetch"))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _check_bulk(self, action: str) -> None:
        if self._limit is not None or self._offset is not None or self._order:
            raise QueryError(f"cannot {action} a sliced or ordered query; filter it instead")

    async def paginate(self, page: int = 1, size: int = 20) -> Page[M]:
        """Return page `page` (from 1) of `size` rows, with the total count.

        Raises:
            HTTPException: 400 when `page` or `size` is below 1.
        """
        if page < 1 or size < 1:
            raise HTTPException(
                400, f"page and size must be at least 1, got page={page}, size={size}"
            )
        total = await self._copy(_limit=None, _offset=None).count()
        items = await self.offset((page - 1) * size).limit(size).all()
        return Page[Any](items=items, total=total, page=page, size=size)
