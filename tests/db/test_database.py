from __future__ import annotations

import datetime
import subprocess
import sys
import uuid
from pathlib import Path

import anyio
import pytest
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium.db import DEFAULT_URL
from trivium.db import UUIDPK
from trivium.db import Database
from trivium.db import Model
from trivium.db import Timestamps
from trivium.db import UTCDateTime
from trivium.db import async_url
from trivium.errors import ConfigurationError
from trivium.testing import TestClient

SUFFIX = uuid.uuid4().hex[:8]


class Event(UUIDPK, Timestamps, Model):
    __tablename__ = f"d_events_{SUFFIX}"
    __table_args__ = (UniqueConstraint("kind", "name"),)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(50))
    finished_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime(), default=None)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@db/app", "postgresql+asyncpg://u:p@db/app"),
        ("postgres://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("mysql://root@db/app", "mysql+aiomysql://root@db/app"),
        ("mariadb://root@db/app", "mariadb+aiomysql://root@db/app"),
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
        ("postgresql+psycopg://u@db/app", "postgresql+psycopg://u@db/app"),
    ],
)
def test_plain_urls_get_an_async_driver(url: str, expected: str) -> None:
    assert async_url(url).render_as_string(hide_password=False) == expected


def test_default_url_is_a_local_sqlite_file() -> None:
    db = Database()
    assert DEFAULT_URL == "sqlite+aiosqlite:///./app.db"
    assert str(db.url) == DEFAULT_URL
    assert db.is_sqlite
    assert repr(Database("postgresql://u:secret@db/app")) == (
        "Database('postgresql+asyncpg://u:***@db/app', name='default')"
    )


def test_engine_lives_with_the_app_lifespan(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}", pool_size=2)
    app = App()
    db.init_app(app)
    assert app.plugins_of(Database) == [db]

    @app.get("/")
    async def ping(session: AsyncSession = db.depends()) -> int:
        return int(await session.scalar(text("SELECT 1")) or 0)

    with TestClient(app) as client:
        assert db._engine is not None
        assert db.engine.pool.size() == 2  # type: ignore[attr-defined]
        assert client.get("/").json() == 1
    assert db._engine is None
    anyio.run(db.dispose)  # disposing twice is harmless


def test_several_named_databases_serve_one_app(tmp_path: Path) -> None:
    main = Database(f"sqlite:///{tmp_path / 'main.db'}")
    analytics = Database(f"sqlite:///{tmp_path / 'analytics.db'}", name="analytics")
    app = App()
    main.init_app(app)
    analytics.init_app(app)
    assert app.plugins_of(Database) == [main, analytics]

    @app.get("/files")
    async def files(
        one: AsyncSession = main.depends(), two: AsyncSession = analytics.depends()
    ) -> list[str]:
        return [str(one.bind.url.database), str(two.bind.url.database)]  # type: ignore[union-attr]

    with TestClient(app) as client:
        paths = client.get("/files").json()
    assert [Path(path).name for path in paths] == ["main.db", "analytics.db"]


def test_two_databases_with_one_name_are_refused_at_setup() -> None:
    app = App()
    Database("sqlite://").init_app(app)
    with pytest.raises(ConfigurationError, match="a database named 'default' is already bound"):
        Database("sqlite://").init_app(app)


def test_naming_convention_gives_constraints_stable_names() -> None:
    table = Model.metadata.tables[Event.__tablename__]
    names = {c.name for c in table.constraints} | {i.name for i in table.indexes}
    assert names == {
        f"pk_d_events_{SUFFIX}",
        f"uq_d_events_{SUFFIX}_kind_name",
        f"ix_d_events_{SUFFIX}_kind",
    }
    assert [c.name for c in table.columns] == [
        "id",
        "kind",
        "name",
        "finished_at",
        "created_at",
        "updated_at",
    ]


@pytest.mark.anyio
async def test_uuid_keys_and_aware_timestamps_round_trip(session: AsyncSession) -> None:
    event = await Event.objects(session).create(kind="deploy", name="v1")
    assert isinstance(event.id, uuid.UUID)
    created = event.created_at
    await session.commit()
    session.expunge_all()
    loaded = await Event.objects(session).get(id=event.id)
    assert loaded.created_at == created
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset() == datetime.timedelta(0)
    loaded.name = "v2"
    await session.commit()
    assert loaded.updated_at > created
    assert repr(loaded) == f"Event(id={event.id!r})"
    assert loaded.to_dict()["name"] == "v2"
    assert loaded.finished_at is None


@pytest.mark.anyio
async def test_timestamps_refuse_naive_datetimes(session: AsyncSession) -> None:
    naive = datetime.datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
    session.add(Event(kind="x", name="y", created_at=naive))
    with pytest.raises(StatementError, match="naive datetime"):
        await session.flush()


@pytest.mark.anyio
async def test_other_timezones_are_stored_as_utc(session: AsyncSession) -> None:
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    when = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=plus_two)
    event = await Event.objects(session).create(kind="x", name="y", created_at=when)
    await session.commit()
    session.expunge_all()
    loaded = await Event.objects(session).get(id=event.id)
    assert loaded.created_at == when
    assert loaded.created_at.hour == 10


def test_importing_trivium_does_not_import_sqlalchemy() -> None:
    code = "import sys, trivium, trivium.testing; print('sqlalchemy' in sys.modules)"
    result = subprocess.run(  # noqa: S603 - a fixed command
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
