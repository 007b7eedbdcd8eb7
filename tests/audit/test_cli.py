"""`trivium audit purge`, contributed by the plugin, run against a real app module."""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from click.testing import Result
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from trivium.audit import AuditEntry
from trivium.audit import parse_age
from trivium.cli import main
from trivium.db import Database
from trivium.db import utcnow

pytestmark = pytest.mark.drives_no_app

APP_SOURCE = """
import datetime
from trivium import App
from trivium.audit import Audit
from trivium.db import Database

db = Database({url!r})
app = App(plugins=[db, Audit(db{retention})])
"""


@pytest.fixture(autouse=True)
def _importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))


def app_module(tmp_path: Path, db: Database, retention: str = "") -> str:
    name = f"auditapp_{uuid.uuid4().hex[:8]}"
    url = db.url.render_as_string(hide_password=False)
    (tmp_path / f"{name}.py").write_text(APP_SOURCE.format(url=url, retention=retention))
    return f"{name}:app"


def run(app: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["audit", *args], env={"TRIVIUM_APP": app})


def add_entries(db: Database, ages_in_days: list[int]) -> None:
    async def add() -> None:
        async with db.sessionmaker() as session:
            for n, days in enumerate(ages_in_days):
                entry = AuditEntry(
                    action="create", model="things", object_pk=str(n), actor_kind="system"
                )
                session.add(entry)
                await session.flush()
                when = utcnow() - datetime.timedelta(days=days)
                await session.execute(
                    update(AuditEntry).where(AuditEntry.id == entry.id).values(created_at=when)
                )
            await session.commit()
        await db.dispose()

    anyio.run(add)


def remaining(db: Database) -> int:
    async def count() -> int:
        async with db.sessionmaker() as session:
            found = int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
        await db.dispose()
        return found

    return anyio.run(count)


def test_purge_deletes_entries_older_than_the_given_age(db: Database, tmp_path: Path) -> None:
    add_entries(db, [1, 10, 100, 400])
    app = app_module(tmp_path, db)
    dry = run(app, "purge", "--older-than", "90d", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("Would delete 2 audit entries older than ")
    assert remaining(db) == 4
    done = run(app, "purge", "--older-than", "2w")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Deleted 2 audit entries older than ")
    assert remaining(db) == 2


def test_purge_uses_the_retention_by_default(db: Database, tmp_path: Path) -> None:
    add_entries(db, [1, 400])
    app = app_module(tmp_path, db, ", retention=datetime.timedelta(days=365)")
    result = run(app, "purge")
    assert result.exit_code == 0, result.output
    assert "Deleted 1 audit entries" in result.output
    assert remaining(db) == 1


def test_purge_without_an_age_or_a_retention_refuses(db: Database, tmp_path: Path) -> None:
    result = run(app_module(tmp_path, db), "purge")
    assert result.exit_code == 2
    assert "give --older-than" in result.output


@pytest.mark.parametrize("age", ["90", "0d", "3 years", "-1d"])
def test_a_bad_age_is_a_usage_error(db: Database, tmp_path: Path, age: str) -> None:
    result = run(app_module(tmp_path, db), "purge", "--older-than", age)
    assert result.exit_code == 2
    assert "Invalid value for '--older-than'" in result.output


def test_ages_read_as_durations() -> None:
    assert parse_age("90d") == datetime.timedelta(days=90)
    assert parse_age("12h") == datetime.timedelta(hours=12)
    assert parse_age("2w") == datetime.timedelta(weeks=2)
    assert parse_age(" 30m ") == datetime.timedelta(minutes=30)
