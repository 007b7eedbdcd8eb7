"""`QuerySet`: Django-style queries (`filter(title__icontains="x")`) built on SQLAlchemy `select`.

A query set is immutable: every refining method returns a new one, so a base query can
be shared and extended. Nothing runs until an `async` terminal method (`all`, `get`,
`count`, ...) is awaited. Field and lookup names are checked when the method is called,
so a typo fails at once with the list of what is available.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any
from typing import Generic
from typing import TypeVar

from pydantic import BaseModel
from pydantic import ConfigDict
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import delete as sa_delete
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import not_
from sqlalchemy import select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.expression import ClauseElement

from trivium.errors import HTTPException
from trivium.errors import TriviumError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Mapper
    from sqlalchemy.orm import QueryableAttribute
    from sqlalchemy.orm.interfaces import ORMOption

__all__ = ["LOOKUPS", "NotFound", "Page", "QueryError", "QuerySet"]

M = TypeVar("M")
T = TypeVar("T")


class QueryError(TriviumError, ValueError):
    """A query names a field or lookup the model does not have, or misuses one."""


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


def _escaped(method: str) -> Callable[[Any, Any], ColumnElement[bool]]:
    return lambda column, value: getattr(column, method)(value, autoescape=True)


def _exact(column: Any, value: Any) -> ColumnElement[bool]:
    # `== None` (not `.is_(None)`) also works on many-to-one relationships.
    return column == value  # type: ignore[no-any-return]


def _in(column: Any, value: Any) -> ColumnElement[bool]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise QueryError(f"the 'in' lookup takes a list of values, not {value!r}")
    return column.in_(list(value))  # type: ignore[no-any-return]


def _isnull(column: Any, value: Any) -> ColumnElement[bool]:
    if not isinstance(value, bool):
        raise QueryError(f"the 'isnull' lookup takes True or False, not {value!r}")
    return column == None if value else column != None  # type: ignore[no-any-return]  # noqa: E711


LOOKUPS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "exact": _exact,
    "iexact": lambda column, value: func.lower(column) == func.lower(value),
    "contains": _escaped("contains"),
    "icontains": _escaped("icontains"),
    "startswith": _escaped("startswith"),
    "istartswith": _escaped("istartswith"),
    "endswith": _escaped("endswith"),
    "iendswith": _escaped("iendswith"),
    "gt": lambda column, value: column > value,
    "gte": lambda column, value: column >= value,
    "lt": lambda column, value: column < value,
    "lte": lambda column, value: column <= value,
    "in": _in,
    "isnull": _isnull,
}
"""Lookup name → condition builder, as in `filter(field__lookup=value)`."""

_RELATION_LOOKUPS = frozenset({"exact", "isnull"})


def _field(model: type[Any], name: str) -> tuple[Any, bool]:
    """Return the mapped attribute `name` of `model` and whether it is a relationship."""
    mapper: Mapper[Any] = model.__mapper__
    if name in mapper.column_attrs:
        return getattr(model, name), False
    if name in mapper.relationships:
        return getattr(model, name), True
    fields = sorted([*mapper.column_attrs.keys(), *mapper.relationships.keys()])
    raise QueryError(f"{model.__name__} has no field {name!r}; fields: {', '.join(fields)}")


def conditions(model: type[Any], lookups: dict[str, Any]) -> list[ColumnElement[bool]]:
    """Turn `{"title__icontains": "x"}` into SQL conditions on `model`'s columns."""
    result: list[ColumnElement[bool]] = []
    for key, value in lookups.items():
        name, _, lookup = key.partition("__")
        lookup = lookup or "exact"
        attribute, is_relation = _field(model, name)
        builder = LOOKUPS.get(lookup)
        allowed = _RELATION_LOOKUPS if is_relation else LOOKUPS.keys()
        if builder is None or lookup not in allowed:
            raise QueryError(
                f"unknown lookup {lookup!r} in {key!r} on {model.__name__}.{name}; "
                f"use one of: {', '.join(sorted(allowed))}"
            )
        result.append(builder(attribute, value))
    return result


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
    stmt = select(model).where(*(getattr(model, name) == bindparam(f"p_{name}") for name in names))
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
    recent = await Article.objects(session).filter(published=True).order_by("-id").limit(10).all()
    ```
    """

    __slots__ = (
        "_for_update",
        "_limit",
        "_offset",
        "_options",
        "_order",
        "_where",
        "model",
        "session",
    )

    def __init__(self, model: type[M], session: AsyncSession) -> None:
        self.model = model
        """The model queried."""
        self.session = session
        """The session the query runs in."""
        self._where: tuple[ColumnElement[bool], ...] = ()
        self._order: tuple[Any, ...] = ()
        self._options: tuple[ORMOption, ...] = ()
        self._limit: int | None = None
        self._offset: int | None = None
        self._for_update = False

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
            or self._limit is not None
            or self._offset is not None
        )

    def filter(self, *where: ColumnElement[bool], **lookups: Any) -> QuerySet[M]:
        """Keep rows matching every condition: SQLAlchemy expressions or `field__lookup=value`."""
        return self._copy(_where=(*self._where, *where, *conditions(self.model, lookups)))

    def exclude(self, *where: ColumnElement[bool], **lookups: Any) -> QuerySet[M]:
        """Drop rows matching all the given conditions; rows where they are NULL stay.

        As in Django, `exclude(subtitle="x")` keeps rows whose subtitle is NULL (plain
        SQL `NOT (subtitle = 'x')` would drop them too).
        """
        parts = [*where, *conditions(self.model, lookups)]
        if not parts:
            return self
        matched = func.coalesce(and_(*parts), false())
        return self._copy(_where=(*self._where, not_(matched)))

    def order_by(self, *fields: str | ColumnElement[Any] | QueryableAttribute[Any]) -> QuerySet[M]:
        """Order by fields (`"-created_at"` for descending) or SQLAlchemy expressions."""
        order: list[Any] = []
        for item in fields:
            if isinstance(item, str):
                descending = item.startswith("-")
                attribute, is_relation = _field(self.model, item.lstrip("-"))
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

    def prefetch(self, *relations: str) -> QuerySet[M]:
        """Eager-load relationships (one extra `SELECT ... IN` per relationship)."""
        options = []
        for name in relations:
            attribute, is_relation = _field(self.model, name)
            if not is_relation:
                raise QueryError(f"{self.model.__name__}.{name} is not a relationship")
            options.append(selectinload(attribute))
        return self._copy(_options=(*self._options, *options))

    def options(self, *options: ORMOption) -> QuerySet[M]:
        """Add SQLAlchemy loader options (`joinedload(...)`, `load_only(...)`)."""
        return self._copy(_options=(*self._options, *options))

    def select_for_update(self) -> QuerySet[M]:
        """Lock the selected rows until the transaction ends (`SELECT ... FOR UPDATE`).

        SQLite has no row locks; there the whole database is locked by the transaction.
        """
        return self._copy(_for_update=True)

    @property
    def statement(self) -> Select[Any]:
        """The SQLAlchemy `select` this query runs."""
        stmt = select(self.model).where(*self._where).order_by(*self._order)
        if self._options:
            stmt = stmt.options(*self._options)
        if self._limit is not None:
            stmt = stmt.limit(self._limit)
        if self._offset is not None:
            stmt = stmt.offset(self._offset)
        if self._for_update:
            stmt = stmt.with_for_update()
        return stmt

    async def all(self) -> list[M]:
        """Return every matching row."""
        rows: list[M] = list((await self.session.scalars(self.statement)).all())
        return rows

    async def first(self) -> M | None:
        """Return the first matching row, or `None`."""
        row: M | None = (await self.session.scalars(self.limit(1).statement)).first()
        return row

    async def get_or_none(self, *where: ColumnElement[bool], **lookups: Any) -> M | None:
        """Return the one row matching, or `None`; more than one is an error."""
        if lookups and not where and self._is_plain():
            stmt = _equality_statement(self.model, lookups)
            if stmt is not None and all(_bindable(value) for value in lookups.values()):
                params = {f"p_{name}": value for name, value in lookups.items()}
                found: M | None = (await self.session.scalars(stmt, params)).one_or_none()
                return found
        query = self.filter(*where, **lookups) if where or lookups else self
        row: M | None = (await self.session.scalars(query.statement)).one_or_none()
        return row

    async def get(self, *where: ColumnElement[bool], **lookups: Any) -> M:
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
        inner = self._copy(_order=(), _options=(), _for_update=False).statement.subquery()
        return int(await self.session.scalar(select(func.count()).select_from(inner)) or 0)

    async def exists(self) -> bool:
        """Return whether any row matches."""
        query = self._copy(_order=(), _options=(), _for_update=False, _limit=1, _offset=None)
        found = await self.session.scalar(select(query.statement.exists()))
        return bool(found)

    async def create(self, **values: Any) -> M:
        """Insert a row with `values` and return it (flushed, so its key is set)."""
        row = self.model(**values)
        self.session.add(row)
        await self.session.flush()
        return row

    async def update(self, **values: Any) -> int:
        """Set `values` on every matching row in one `UPDATE`; return how many rows matched."""
        for name in values:
            _field(self.model, name)
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
