"""Export of the filtered change list as CSV or JSON, streamed in keyset batches.

`GET {prefix}/<app>/<model>/export?format=csv&<the list's query string>` writes the
list's columns for every row its search and filters match, in the list's order (its `o`,
else the `ModelAdmin`'s `ordering`, the primary key last). Rows are read `BATCH` at a
time (keyset pages when the order allows, as the list's cursor; else offset pages) with
their shown relations (`selectinload` per batch) in a session of the export's own, so a
million-row export holds one batch in memory, and each row is checked against
`has_view_permission(request, obj)`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from trivium.admin._actions import BATCH
from trivium.admin._changelist import display_text
from trivium.admin._changelist import filtered_statement
from trivium.admin._changelist import parse_ordering
from trivium.admin._query import Order
from trivium.admin._query import keyset_condition
from trivium.admin._query import keyset_ready
from trivium.admin._query import loader_options
from trivium.admin._query import order_clauses
from trivium.admin._render import forbidden
from trivium.admin._routes import model_admin_or_404
from trivium.errors import HTTPException
from trivium.http import Request
from trivium.responses import Response
from trivium.responses import StreamingResponse

if TYPE_CHECKING:
    from sqlalchemy import Select

    from trivium.admin._options import ModelAdmin
    from trivium.admin._site import Admin
    from trivium.routing import Router

__all__ = ["register_export_routes"]

_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _plain(value: Any, admin_of: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return display_text(value, admin_of)


def _cell(value: Any) -> Any:
    # A spreadsheet runs a cell starting with = + - @ as a formula: quote it.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


async def _ordered_batches(
    model_admin: ModelAdmin, session: AsyncSession, statement: Select[Any], order: Order
) -> AsyncIterator[list[Any]]:
    """Yield the rows of `statement` in `order`, `BATCH` at a time."""
    meta = model_admin.meta
    size = BATCH
    ordered = statement.order_by(None).order_by(
        *order_clauses(meta, order, model_admin.site.meta_of)
    )
    keyset = keyset_ready(meta, order)
    after: list[Any] | None = None
    offset = 0
    while True:
        query = ordered.limit(size)
        if keyset and after is not None:
            query = query.where(keyset_condition(meta, order, after))
        elif not keyset:
            query = query.offset(offset)
        rows = list((await session.scalars(query)).unique().all())
        if not rows:
            return
        after = [getattr(rows[-1], name) for name, _ in order]
        offset += len(rows)
        yield rows
        if len(rows) < size:
            return


async def _rows(
    model_admin: ModelAdmin, request: Request, statement: Select[Any], order: Order
) -> AsyncIterator[list[Any]]:
    site = model_admin.site
    paths = [c.relation_path for c in model_admin.columns if c.relation_path]
    statement = statement.options(*loader_options(site.meta_of, model_admin.model, paths))
    async with site.db.sessionmaker() as session:
        async for objects in _ordered_batches(model_admin, session, statement, order):
            rows = [
                [_plain(c.getter(obj), site.admin_for) for c in model_admin.columns]
                for obj in objects
                if await model_admin.permission(request, "view", obj)
            ]
            yield rows


async def _csv(
    model_admin: ModelAdmin, request: Request, statement: Select[Any], order: Order
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in model_admin.columns])
    async for rows in _rows(model_admin, request, statement, order):
        writer.writerows([[_cell(v) for v in row] for row in rows])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


async def _json(
    model_admin: ModelAdmin, request: Request, statement: Select[Any], order: Order
) -> AsyncIterator[bytes]:
    keys = [c.key for c in model_admin.columns]
    first = True
    yield b"["
    async for rows in _rows(model_admin, request, statement, order):
        for row in rows:
            item = orjson.dumps(dict(zip(keys, row, strict=True)), default=str)
            yield item if first else b"," + item
            first = False
    yield b"]"


def register_export_routes(site: Admin, router: Router, session_dep: Any) -> None:
    """Add the export route to `router`."""

    @router.get(site.prefix + "/{app_label}/{model_name}/export", name="admin_export")
    async def export(
        request: Request, app_label: str, model_name: str, session: AsyncSession = session_dep
    ) -> Response:
        model_admin = model_admin_or_404(site, app_label, model_name)
        denied = await site.gate(request, session)
        if denied is not None:
            return denied
        if not await model_admin.permission(request, "view"):
            return await forbidden(site, request, f"You may not view {model_admin.name} objects.")
        params = dict(request.query_params.items())
        kind = params.pop("format", "csv")
        if kind not in _TYPES:
            raise HTTPException(400, "format must be csv or json")
        messages: list[str] = []
        statement, _ = await filtered_statement(model_admin, request, params, messages)
        order = parse_ordering(model_admin, params.get("o"), messages)
        filename = f"{model_admin.model_name}.{kind}"
        headers = {
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        }
        body = (
            _csv(model_admin, request, statement, order)
            if kind == "csv"
            else _json(model_admin, request, statement, order)
        )
        return StreamingResponse(body, media_type=_TYPES[kind], headers=headers)
