"""Times with time zone, durations and hand-written migrations outside a transaction.

A `Time(timezone=True)` value keeps its instant on every backend (stored and read in UTC,
as `DateTime(timezone=True)` is); an `Interval` takes and returns the ISO 8601 durations
the document promises, and nothing else.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Interval
from sqlalchemy import Time
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from tests.db.crud_models import SUFFIX
from tests.db.servers import PARAMS
from tests.db.servers import Project
from tests.db.servers import backend_url
from tests.db.servers import execute
from tests.db.servers import in_project

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import crud_router
from trivium.testing import TestClient


class Slot(IntPK, Model):
    __tablename__ = f"review_slot_{SUFFIX}"
    starts: Mapped[datetime.time | None] = mapped_column(Time(timezone=True), default=None)
    span: Mapped[datetime.timedelta | None] = mapped_column(Interval, default=None)


def _app(db: Database) -> App:
    app = App()
    db.init_app(app)
    filters = ["starts", "starts__gte", "span", "span__gte"]
    router = crud_router(Slot, db, prefix="/slots", filters=filters, ordering=["span"])
    app.include_router(router)
    return app


def _ids(client: TestClient, **params: Any) -> list[int]:
    answer = client.get("/slots", params=params)
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def test_a_time_with_time_zone_keeps_its_instant_and_is_read_in_utc(db: Database) -> None:
    with TestClient(_app(db)) as client:
        created = client.post("/slots", json={"starts": "10:30:00+02:00"})
        late = client.post("/slots", json={"starts": "01:00:00+03:00"}).json()
        read = client.get(f"/slots/{created.json()['id']}").json()
        patched = client.patch(f"/slots/{late['id']}", json={"starts": "23:15:00-01:00"})
        found = _ids(client, starts="09:30:00+01:00")
        later = _ids(client, starts__gte="09:00:00+01:00")
        both = _ids(client, starts__gte="00:10:00Z")
    assert created.status_code == 201, created.text
    assert created.json()["starts"] == read["starts"] == "08:30:00Z"
    assert late["starts"] == "22:00:00Z"
    assert patched.json()["starts"] == "00:15:00Z"
    assert found == [created.json()["id"]]
    assert later == [created.json()["id"]]
    assert both == [created.json()["id"], late["id"]]


def test_a_time_with_time_zone_refuses_a_time_without_an_offset(db: Database) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        body = client.post("/slots", json={"starts": "10:30:00"})
        query = client.get("/slots", params={"starts__gte": "10:30:00"})
    assert body.status_code == 422, body.text
    assert body.json()["detail"][0]["loc"] == ["body", "starts"]
    assert "with an offset" in body.json()["detail"][0]["msg"]
    assert query.status_code == 422, query.text


def test_an_interval_takes_and_returns_iso_8601_durations(db: Database) -> None:
    with TestClient(_app(db)) as client:
        long = client.post("/slots", json={"span": "P1DT2H30M"})
        short = client.post("/slots", json={"span": "PT90S"}).json()
        week = client.post("/slots", json={"span": "P1W"}).json()
        back = client.post("/slots", json={"span": "-PT1H"}).json()
        read = client.get(f"/slots/{long.json()['id']}").json()
        ordered = _ids(client, ordering="span")
        found = _ids(client, span__gte="P1D")
        exact = _ids(client, span="PT1M30S")
    assert long.status_code == 201, long.text
    assert long.json()["span"] == read["span"] == "P1DT2H30M"
    assert short["span"] == "PT1M30S"
    assert week["span"] == "P7D"
    assert back["span"] == "-PT1H"
    assert ordered == [back["id"], short["id"], long.json()["id"], week["id"]]
    assert found == [long.json()["id"], week["id"]]
    assert exact == [short["id"]]


def test_an_interval_refuses_seconds_months_and_what_no_backend_stores(db: Database) -> None:
    refused = [90, 90.5, "3600", "01:30:00", "P1M", "P1Y", "P", "PT", "P1x5D", "P400000D"]
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        bodies = [client.post("/slots", json={"span": value}) for value in refused]
        queries = [client.get("/slots", params={"span__gte": v}) for v in ("3600", "P1M")]
        count = client.get("/slots").json()["total"]
    for answer in [*bodies, *queries]:
        assert answer.status_code == 422, answer.text
    assert "ISO 8601" in bodies[0].json()["detail"][0]["msg"]
    assert "354285 days" in bodies[-1].json()["detail"][0]["msg"]
    assert count == 0


def test_a_fraction_of_a_second_is_kept_or_refused_never_dropped(db: Database) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        answer = client.post("/slots", json={"span": "PT1.5S"})
        if answer.status_code == 201:
            read = client.get(f"/slots/{answer.json()['id']}").json()
            assert answer.json()["span"] == read["span"] == "PT1.5S"
        else:
            assert db.url.get_backend_name() == "mysql"
            assert answer.status_code == 422, answer.text
            assert "whole seconds" in answer.json()["detail"][0]["msg"]


def test_the_document_says_what_times_and_durations_the_api_takes(db: Database) -> None:
    schemas = _app(db).openapi()["components"]["schemas"]
    for name in ("SlotCreate", "SlotRead"):
        fields = schemas[name]["properties"]
        assert {"type": "string", "format": "duration"} in fields["span"]["anyOf"]
        assert {"type": "string", "format": "time"} in fields["starts"]["anyOf"]


APP = """
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table

from trivium import App
from trivium.db import NAMING_CONVENTION, Database

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Table("items_{suffix}", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))
db = Database({url!r}, migrations=Path(__file__).parent / "migrations", metadata=metadata)
db.version_table = "versions_{suffix}"
app = App()
db.init_app(app)
"""


@pytest.fixture(params=PARAMS)
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Project]:
    url = backend_url(request.param, tmp_path, "items.db")
    in_project(tmp_path, monkeypatch)
    found = Project(tmp_path, url, APP)
    yield found
    found.drop("items")


def _autocommit(project: Project, *, then: str = "") -> str:
    """Create an index outside the transaction (concurrently on PostgreSQL), then `then`."""
    items = project.table("items")
    concurrently = "CONCURRENTLY " if project.url.startswith("postgresql") else ""
    return (
        "    with op.get_context().autocommit_block():\n"
        f'        op.execute("CREATE INDEX {concurrently}ix_name_{project.suffix} ON {items} (name)")\n'
        f"    op.execute(\"INSERT INTO {items} (name) VALUES ('after')\")\n" + then
    )


def _indexes(project: Project) -> set[str]:
    items = project.table("items")
    if project.url.startswith("sqlite"):
        query = f"SELECT name FROM pragma_index_list('{items}')"
    elif project.url.startswith("postgresql"):
        query = f"SELECT indexname FROM pg_indexes WHERE tablename = '{items}'"  # noqa: S608 - test names
    else:
        query = f"SELECT index_name FROM information_schema.statistics WHERE table_name = '{items}'"  # noqa: S608 - test names
    return {str(row[0]).lower() for row in execute(project.url, query)}


def test_a_revision_with_an_autocommit_block_is_applied_and_recorded(project: Project) -> None:
    assert project.run("makemigrations", "-m", "create items").exit_code == 0
    revision, _ = project.hand_written("index", _autocommit(project))
    result = project.run("migrate")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith(f"Applied {revision} (app)")
    assert f"ix_name_{project.suffix}" in _indexes(project)
    assert execute(project.url, f"SELECT name FROM {project.table('items')}") == [("after",)]
    assert revision in project.run("current").output
    again = project.run("migrate")
    assert again.exit_code == 0, again.output


def test_a_revision_with_an_autocommit_block_stays_whole_when_a_later_one_fails(
    project: Project,
) -> None:
    assert project.run("makemigrations", "-m", "create items").exit_code == 0
    revision, _ = project.hand_written("index", _autocommit(project))
    items = project.table("items")
    failing, _ = project.hand_written(
        "broken", f'    op.execute("UPDATE {items} SET nosuch = 1")\n'
    )
    result = project.run("migrate")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(f"Error: migration {failing} (broken) failed")
    current = project.run("current").output
    assert revision in current
    assert failing not in current
    assert execute(project.url, f"SELECT name FROM {items}") == [("after",)]


def test_a_failure_after_an_autocommit_block_says_what_stays(project: Project) -> None:
    assert project.run("makemigrations", "-m", "create items").exit_code == 0
    items = project.table("items")
    broken = f'    op.execute("UPDATE {items} SET nosuch = 1")\n'
    revision, path = project.hand_written("index", _autocommit(project, then=broken))
    result = project.run("migrate")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    error = result.output.splitlines()[-1]
    assert error.startswith(f"Error: migration {revision} (index) failed: ")
    assert f"ix_name_{project.suffix}" in error
    assert "nothing of it was applied" not in error
    assert f"ix_name_{project.suffix}" in _indexes(project)
    assert execute(project.url, f"SELECT count(*) FROM {items}") == [(0,)]
    assert revision not in project.run("current").output


def test_an_enum_value_added_in_an_autocommit_block_is_usable_after_it(
    project: Project,
) -> None:
    if not project.url.startswith("postgresql"):
        pytest.skip("ALTER TYPE ... ADD VALUE is PostgreSQL's")
    assert project.run("makemigrations", "-m", "create items").exit_code == 0
    mood, items = f"mood_{project.suffix}", project.table("items")
    upgrade = (
        f"    op.execute(\"CREATE TYPE {mood} AS ENUM ('sad')\")\n"
        f'    op.execute("ALTER TABLE {items} ADD COLUMN mood {mood}")\n'
        "    with op.get_context().autocommit_block():\n"
        f"        op.execute(\"ALTER TYPE {mood} ADD VALUE 'happy'\")\n"
        f"    op.execute(\"INSERT INTO {items} (name, mood) VALUES ('a', 'happy')\")\n"
    )
    revision, _ = project.hand_written("mood", upgrade)
    try:
        result = project.run("migrate")
        assert result.exit_code == 0, result.output
        assert execute(project.url, f"SELECT mood::text FROM {items}") == [("happy",)]
        assert revision in project.run("current").output
    finally:
        project.drop("items")
        execute(project.url, f"DROP TYPE IF EXISTS {mood}")


def test_an_empty_revision_is_written_without_replaying_the_pending_ones(
    project: Project,
) -> None:
    assert project.run("makemigrations", "-m", "create items").exit_code == 0
    # Pending, and written for one database only: no scratch SQLite database can run it.
    first, _ = project.hand_written("by hand", '    op.execute("NOT SQL ANYWHERE")\n')
    result = project.run("makemigrations", "--empty", "-m", "next")
    path = project.created(result)
    assert f"down_revision: str | tuple[str, ...] | None = {first!r}" in path.read_text()
