"""`Audit` as a plugin: options checked at once, the request step only where it is needed."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Book
from tests.audit.models import Tag

from trivium import App
from trivium import Request
from trivium.audit import Audit
from trivium.audit import AuditEntry
from trivium.audit import current_actor
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


@pytest.fixture
def sqlite(tmp_path: Any) -> Database:
    return Database(f"sqlite+aiosqlite:///{tmp_path / 'plugin.db'}")


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"retention": datetime.timedelta(0)}, "audit-retention"),
        ({"retention": 30}, "audit-retention"),
        ({"models": [object]}, "audit-model"),
        ({"exclude": ["books"]}, "audit-model"),
        ({"secret_fields": "password"}, "audit-secret-fields"),
        ({"untracked_fields": "last_login"}, "audit-untracked-fields"),
    ],
)
def test_bad_options_fail_with_a_code(sqlite: Database, options: dict[str, Any], code: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Audit(sqlite, **options)
    assert raised.value.code == code


def test_models_and_exclude_choose_what_is_audited(sqlite: Database) -> None:
    audit = Audit(sqlite, models=[Book])
    assert audit.audits(Book)
    assert not audit.audits(Tag)
    assert not audit.audits(AuditEntry)
    audit.close()
    audit = Audit(sqlite, exclude=[Book])
    assert not audit.audits(Book)
    assert audit.audits(Tag)
    assert audit.model_for(Tag.__tablename__) is Tag
    assert audit.model_for("nope") is None
    audit.close()


def test_one_audit_per_database(sqlite: Database) -> None:
    first = Audit(sqlite)
    with pytest.raises(ConfigurationError) as raised:
        Audit(sqlite)
    assert raised.value.code == "audit-duplicate"
    first.close()
    first.close()  # a second close is harmless
    Audit(sqlite).close()


def test_an_unknown_option_is_an_error(sqlite: Database) -> None:
    with pytest.raises(TypeError, match="retension"):
        Audit(sqlite, retension=datetime.timedelta(days=1))  # type: ignore[call-arg]


def test_audit_needs_a_database() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Audit("sqlite:///x.db")  # type: ignore[arg-type]
    assert raised.value.code == "audit-database"


def test_the_plugin_installs_its_database_and_is_found_by_class(sqlite: Database) -> None:
    audit = Audit(sqlite)
    app = App(plugins=[audit])

    @app.get("/")
    async def home() -> str:
        return "ok"

    with TestClient(app) as client:
        assert client.get("/").text == '"ok"'
    assert app.plugin(Audit) is audit
    assert app.plugins_of(Database) == [sqlite]
    audit.close()


def test_the_step_goes_only_to_routes_that_take_the_request_or_may_write(sqlite: Database) -> None:
    audit = Audit(sqlite)
    app = App(plugins=[sqlite, audit])

    @app.get("/plain")
    async def plain() -> dict[str, Any]:
        return {"kind": current_actor().kind}

    @app.get("/request")
    async def with_request(request: Request) -> dict[str, Any]:
        del request
        return {"kind": current_actor().kind}

    @app.post("/write")
    async def write() -> dict[str, Any]:
        return {"kind": current_actor().kind, "request_id": current_actor().request_id}

    with TestClient(app) as client:
        assert client.get("/plain").json() == {"kind": "system"}  # no step: nothing to pay
        assert client.get("/request").json() == {"kind": "anonymous"}
        first = client.post("/write").json()
        second = client.post("/write").json()
    assert first["kind"] == "anonymous"
    assert first["request_id"] != second["request_id"]
    audit.close()


@pytest.mark.anyio
async def test_closing_stops_auditing(db: Database) -> None:
    audit = Audit(db)
    audit.close()
    async with db.sessionmaker() as session:
        await Book.objects(session).create(title="quiet")
        await session.commit()
        assert await audit.log(session) == []
    await db.dispose()


@pytest.mark.anyio
async def test_log_refuses_bad_pages(session: AsyncSession, audit: Audit) -> None:
    with pytest.raises(ValueError, match="limit"):
        await audit.log(session, limit=0)
    with pytest.raises(ValueError, match="action"):
        await audit.log(session, action="drop")
