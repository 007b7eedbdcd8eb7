"""Statements and time a 10,000-row bulk update and delete cost with `trivium.audit`.

Counts the statements sent to the database (SQLAlchemy's `before_cursor_execute`) for a
bulk `update()` and a bulk `delete()` of N rows on an audited model, against the same
statements on an unaudited one, and prints the difference per 1,000 rows (the target is
at most 3) with the wall-clock time of each.

    .venv/bin/python bench/audit_bulk.py postgresql://postgres@127.0.0.1/bench --rows 10000
"""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

import anyio
from sqlalchemy import String
from sqlalchemy import event
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium.audit import Audit
from trivium.audit import AuditEntry
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model

SUFFIX = uuid.uuid4().hex[:6]


class Audited(IntPK, Model):
    __tablename__ = f"bench_audited_{SUFFIX}"
    title: Mapped[str] = mapped_column(String(50))
    pages: Mapped[int]


class Plain(IntPK, Model):
    __tablename__ = f"bench_plain_{SUFFIX}"
    title: Mapped[str] = mapped_column(String(50))
    pages: Mapped[int]


async def measure(db: Database, model: type[Any], rows: int) -> dict[str, tuple[int, float]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    results: dict[str, tuple[int, float]] = {}
    async with db.sessionmaker() as session:
        await model.objects(session).bulk_create(
            [{"title": f"t{n}", "pages": n} for n in range(rows)]
        )
        await session.commit()
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            for name, action in (
                ("update", lambda: model.objects(session).update(pages=model.pages + 1)),
                ("delete", lambda: model.objects(session).filter(id__gt=0).delete()),
            ):
                statements.clear()
                start = time.perf_counter()
                await action()
                await session.commit()
                results[name] = (len(statements), time.perf_counter() - start)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    return results


async def main(url: str, rows: int) -> None:
    db = Database(url)
    tables = [Audited.__table__, Plain.__table__, AuditEntry.__table__]
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda sync: Model.metadata.create_all(sync, tables=tables))
    audit = Audit(db, models=[Audited])
    try:
        plain = await measure(db, Plain, rows)
        audited = await measure(db, Audited, rows)
        for name in ("update", "delete"):
            extra = audited[name][0] - plain[name][0]
            print(
                f"{db.url.get_backend_name()} bulk {name} of {rows} rows: "
                f"{plain[name][0]} statements unaudited ({plain[name][1] * 1000:.0f} ms), "
                f"{audited[name][0]} audited ({audited[name][1] * 1000:.0f} ms): "
                f"{extra} extra = {extra / (rows / 1000):.2f} per 1,000 rows"
            )
    finally:
        audit.close()
        async with db.engine.begin() as connection:
            await connection.run_sync(lambda sync: Model.metadata.drop_all(sync, tables=tables[:2]))
            await connection.execute(
                AuditEntry.__table__.delete().where(AuditEntry.model == Audited.__tablename__)
            )
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="database URL (sqlite://, postgresql://, mysql://)")
    parser.add_argument("--rows", type=int, default=10_000)
    arguments = parser.parse_args()
    anyio.run(main, arguments.url, arguments.rows)
