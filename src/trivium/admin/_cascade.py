"""What deleting objects takes with it: the rows that cascade, are unlinked or block it.

Every foreign key in the metadata that points at the model's table is looked at: rows
behind `ON DELETE CASCADE` (or an ORM relationship with the `delete` cascade) are
deleted too, rows behind `SET NULL` lose their link, many-to-many link rows go away,
and rows behind any other key protect the object: the page says so and refuses. So
does it when rows of a registered model would be deleted along with the object while the
user may not delete that model's objects (as Django's admin). Each
kind of related row is counted up to a bound and a few are named, so a popular object
never makes the page load a whole table.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select

from trivium.admin._meta import verbose

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.admin._options import ModelAdmin
    from trivium.admin._site import Admin
    from trivium.http import Request

__all__ = ["DeletionSummary", "deletion_summary"]

SHOWN = 10
"""Related objects named per kind; the rest are counted."""
COUNTED = 1000
"""Related rows counted exactly per kind; above it the page says "more than"."""


@dataclasses.dataclass
class DeletionSummary:
    """The consequences of a deletion, by kind."""

    deleted: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    request: Request | None = dataclasses.field(default=None, repr=False)
    """The user's request, whose permissions are checked (none: no check)."""
    unlinked: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    protected: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    forbidden: list[str] = dataclasses.field(default_factory=list)
    """The kinds of objects deleted along with the objects that the user may not delete."""

    @property
    def refused(self) -> bool:
        """Whether the deletion must not happen (protected rows, or forbidden ones)."""
        return bool(self.protected or self.forbidden)


def _mapped_class(model: type[Any], table: Any) -> type[Any] | None:
    from sqlalchemy import inspect as sa_inspect

    for mapper in sa_inspect(model).registry.mappers:
        if mapper.local_table is table:
            return mapper.class_  # type: ignore[no-any-return]
    return None


def _orm_cascades(model: type[Any]) -> set[Any]:
    """Tables whose rows the model's relationships delete along with it."""
    from sqlalchemy import inspect as sa_inspect

    tables = set()
    for rel in sa_inspect(model).relationships:
        if rel.secondary is None and rel.cascade.delete and rel.direction.name == "ONETOMANY":
            tables.add(rel.mapper.local_table)
    return tables


async def deletion_summary(
    site: Admin,
    session: AsyncSession,
    model_admin: ModelAdmin,
    objects: list[Any],
    request: Request | None = None,
) -> DeletionSummary:
    """Return what deleting `objects` (of `model_admin`'s model) would do, level by level.

    Rows deleted along with the objects take their own dependents with them (or are
    protected by them): each level is looked at in turn, up to `DEPTH` levels, the rows
    of a level described by a subquery of the one above (no keys are loaded). With
    `request`, the user's delete permission on each registered model whose rows go too
    is checked; the ones missing are listed in `forbidden`.
    """
    summary = DeletionSummary(request=request)
    model = model_admin.model

    def keys(column: Any) -> Any:
        return [getattr(obj, _attribute_of(model, column.key)) for obj in objects]

    await _level(site, session, summary, model, model.__table__, keys, None, {model.__table__})
    return summary


DEPTH = 4
"""Levels of cascading rows looked at below the deleted objects."""


async def _level(  # noqa: PLR0913 - one level of the walk and where it came from
    site: Admin,
    session: AsyncSession,
    summary: DeletionSummary,
    model: type[Any],
    table: Any,
    keys: Any,
    via: str | None,
    path: set[Any],
) -> None:
    cascading = _orm_cascades(model)
    for other in table.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table:
                continue
            condition = fk.parent.in_(keys(fk.column))
            cls = _mapped_class(model, other)
            kind = _kind(fk, other, cascading, mapped=cls is not None)
            counted = select(func.count()).select_from(
                select(literal(1)).select_from(other).where(condition).limit(COUNTED + 1).subquery()
            )
            total = int(await session.scalar(counted) or 0)
            if not total:
                continue
            names: list[str] = []
            if cls is not None:
                shown = await session.scalars(select(cls).where(condition).limit(SHOWN))
                related_admin = site.admin_for(cls)
                names = [related_admin.label_of(r) if related_admin else str(r) for r in shown]
            label = verbose(cls.__name__) if cls is not None else f"{other.name} link"
            entry = {
                "model": label if via is None else f"{label} (of the {via} deleted with it)",
                "count": total if total <= COUNTED else f"more than {COUNTED}",
                "names": names,
                "depth": len(path) - 1,
            }
            {
                "deleted": summary.deleted,
                "unlinked": summary.unlinked,
                "protected": summary.protected,
            }[kind].append(entry)
            if kind == "deleted" and cls is not None:
                await _check_permission(site, summary, cls)
            if kind == "deleted" and cls is not None and other not in path and len(path) <= DEPTH:

                def below(column: Any, rows: Any = condition, source: Any = other) -> Any:
                    return select(source.c[column.key]).where(rows)

                await _level(site, session, summary, cls, other, below, label, {*path, other})


async def _check_permission(site: Admin, summary: DeletionSummary, cls: type[Any]) -> None:
    related_admin = site.admin_for(cls)
    if summary.request is None or related_admin is None:
        return  # as Django: a model without an admin is not checked
    name = related_admin.name
    if name not in summary.forbidden and not await related_admin.permission(
        summary.request, "delete"
    ):
        summary.forbidden.append(name)


def _attribute_of(model: type[Any], column_key: str) -> str:
    from sqlalchemy import inspect as sa_inspect

    mapper = sa_inspect(model)
    return str(mapper.get_property_by_column(model.__table__.c[column_key]).key)


def _kind(fk: Any, other: Any, cascading: set[Any], *, mapped: bool) -> str:
    ondelete = (fk.ondelete or "").upper()
    if ondelete == "CASCADE" or other in cascading:
        return "deleted"
    if ondelete == "SET NULL":
        return "unlinked"
    if not mapped:
        return "deleted"  # a many-to-many link table: the ORM removes the links
    return "protected"
