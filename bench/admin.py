"""The admin on a big table: change-list latency and statements per page, on PostgreSQL.

Seeds `--rows` entries (default 1,000,000) with a foreign key to 1,000 authors into a
database of its own (`bench_admin`, created when missing), logs a superuser in, and
times, in process (the app called through `TestClient`, no network), the change list
of a `ModelAdmin` with a related column, two filters and a search field:

| scenario | request | target p95 |
|---|---|---|
| page 1, one filter | `?published__exact=1` | < 100 ms |
| page 5,000 (keyset) | the same filter, `?after=<cursor of row 100,000>` | < 150 ms |
| page 5,000 (offset) | the same filter, `?p=5000` (for comparison only) | — |
| search | `?q=entry 4242` (for comparison only) | — |

and prints p50/p95/max per scenario, the SQL statements each page ran (counted with
SQLAlchemy's `before_cursor_execute`) and whether the targets hold.

```sh
.venv/bin/python bench/admin.py                          # 1,000,000 rows, 200 requests each
.venv/bin/python bench/admin.py --rows 20000 --requests 20 --reseed   # a quick check
.venv/bin/python bench/admin.py --database sqlite:///admin-bench.db --rows 5000
```

The rows are kept between runs (`--reseed` makes them again); seeding a million rows
takes a few seconds on PostgreSQL (`generate_series`). Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import orjson
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from trivium import App  # noqa: E402
from trivium.admin import Admin  # noqa: E402
from trivium.admin import ModelAdmin  # noqa: E402
from trivium.auth import Auth  # noqa: E402
from trivium.auth import User  # noqa: E402
from trivium.auth import create_superuser  # noqa: E402
from trivium.db import Database  # noqa: E402
from trivium.db import Model  # noqa: E402
from trivium.db import async_url  # noqa: E402
from trivium.stores import MemoryStore  # noqa: E402
from trivium.testing import TestClient  # noqa: E402

PASSWORD = "bench admin passphrase"
PER_PAGE = 20
TARGETS = {"page 1, one filter": 100.0, "page 5,000 (keyset)": 150.0}


class BenchAuthor(Model):
    __tablename__ = "bench_admin_author"
    __app_label__ = "bench"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))

    def __str__(self) -> str:
        return self.name


class BenchEntry(Model):
    __tablename__ = "bench_admin_entry"
    __app_label__ = "bench"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    published: Mapped[bool] = mapped_column(Boolean, index=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    author_id: Mapped[int] = mapped_column(ForeignKey("bench_admin_author.id"), index=True)
    author: Mapped[BenchAuthor] = relationship(lambda: BenchAuthor)

    def __str__(self) -> str:
        return self.title


class EntryAdmin(ModelAdmin):
    list_display = ("title", "author__name", "published", "created_at")
    list_filter = ("published", "author")
    search_fields = ("title",)
    list_per_page = PER_PAGE


class AuthorAdmin(ModelAdmin):
    search_fields = ("name",)


def default_url() -> str:
    host = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
    port = os.environ.get("BENCH_PG_PORT", "5432")
    user = os.environ.get("BENCH_PG_USER", "postgres")
    return f"postgresql://{user}@{host}:{port}/bench_admin"


async def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` when it is missing."""
    parsed = async_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    server = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with server.connect() as connection:
            found = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            )
            if not found:
                await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        await server.dispose()


async def seed(db: Database, rows: int, reseed: bool) -> None:
    """Create the tables, the superuser and `rows` entries (unless they are there)."""
    try:
        await _seed(db, rows, reseed)
    finally:
        await db.dispose()  # the app runs in another event loop


async def _seed(db: Database, rows: int, reseed: bool) -> None:
    await db.create_all()
    async with db.sessionmaker() as session:
        have = await session.scalar(select(BenchEntry.id).order_by(BenchEntry.id.desc()).limit(1))
        if have == rows and not reseed:
            return
        if db.url.get_backend_name() == "postgresql":  # no dead rows left behind
            await session.execute(
                text("TRUNCATE bench_admin_entry, bench_admin_author, auth_user CASCADE")
            )
        else:
            await session.execute(BenchEntry.__table__.delete())
            await session.execute(BenchAuthor.__table__.delete())
            await session.execute(User.__table__.delete())
        await create_superuser(session, email="bench@example.com", password=PASSWORD)
        await session.execute(
            BenchAuthor.__table__.insert(),
            [{"id": n, "name": f"author {n}"} for n in range(1, 1001)],
        )
        if db.url.get_backend_name() == "postgresql":
            await session.execute(
                text(
                    "INSERT INTO bench_admin_entry (id, title, published, created_at, author_id) "
                    "SELECT n, 'entry ' || n, n % 3 = 0, "
                    "now() - n * interval '1 minute', 1 + n % 1000 "
                    "FROM generate_series(1, :rows) AS n"
                ),
                {"rows": rows},
            )
        else:
            start = datetime.datetime.now(datetime.UTC)
            for low in range(1, rows + 1, 10_000):
                batch = [
                    {
                        "id": n,
                        "title": f"entry {n}",
                        "published": n % 3 == 0,
                        "created_at": start - datetime.timedelta(minutes=n),
                        "author_id": 1 + n % 1000,
                    }
                    for n in range(low, min(rows, low + 9_999) + 1)
                ]
                await session.execute(BenchEntry.__table__.insert(), batch)
        await session.commit()
    if db.url.get_backend_name() == "postgresql":
        engine = create_async_engine(db.url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text("VACUUM ANALYZE bench_admin_entry"))
                await connection.execute(text("VACUUM ANALYZE bench_admin_author"))
        finally:
            await engine.dispose()


def keyset_cursor(rows: int) -> str:
    """The change list's cursor after row 100,000 of `published__exact=1`, `-id` order."""
    published = [n for n in range(rows, 0, -1) if n % 3 == 0]
    position = min(len(published) - 1, 5_000 * PER_PAGE - 1)
    value = published[position] if published else 1
    return base64.urlsafe_b64encode(orjson.dumps([value])).decode().rstrip("=")


def measure(client: TestClient, db: Database, url: str, requests: int) -> tuple[list[float], int]:
    client.get(url)  # warm up
    counted: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counted.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        client.get(url)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        answer = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code}: {answer.text[:500]}")
    if os.environ.get("BENCH_ADMIN_SHOW_SQL"):
        print("\n".join(" ".join(statement.split())[:120] for statement in counted))
    return timings, len(counted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=default_url(), help="database URL")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario")
    parser.add_argument("--reseed", action="store_true", help="make the rows again")
    options = parser.parse_args()
    anyio.run(ensure_database, options.database)
    db = Database(options.database)
    started = time.perf_counter()
    anyio.run(seed, db, options.rows, options.reseed)
    print(f"data ready in {time.perf_counter() - started:.1f} s ({options.rows:,} rows)")
    auth = Auth(
        db,
        secret_key="bench-admin-secret-key-0123456789-abcdefghijkl",
        session_store=MemoryStore(),
        login_throttle=None,
    )
    admin = Admin(db, auth)
    admin.register(BenchEntry, EntryAdmin)
    admin.register(BenchAuthor, AuthorAdmin)
    app = App(plugins=[db, auth, admin])
    scenarios = {
        "page 1, one filter": "/admin/bench/benchentry?published__exact=1",
        "page 5,000 (keyset)": f"/admin/bench/benchentry?published__exact=1&after={keyset_cursor(options.rows)}",
        "page 5,000 (offset)": "/admin/bench/benchentry?published__exact=1&p=5000",
        "search": "/admin/bench/benchentry?q=entry+4242",
    }
    failed = False
    with TestClient(app, follow_redirects=False) as client:
        login = client.get("/admin/accounts/login")
        token = login.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post(
            "/admin/accounts/login",
            data={"identifier": "bench@example.com", "password": PASSWORD, "csrf_token": token},
        )
        print(f"{'scenario':<22} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL':>4}  target")
        for name, url in scenarios.items():
            timings, statements = measure(client, db, url, options.requests)
            p95 = (
                statistics.quantiles(timings, n=20, method="inclusive")[-1]
                if len(timings) > 1
                else timings[0]
            )
            target = TARGETS.get(name)
            verdict = (
                ""
                if target is None
                else ("ok" if p95 < target else "MISSED") + f" (< {target:.0f})"
            )
            failed |= target is not None and p95 >= target
            print(
                f"{name:<22} {statistics.median(timings):8.1f} {p95:8.1f} {max(timings):8.1f} {statements:4d}  {verdict}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
