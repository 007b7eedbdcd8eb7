"""libpq's URL parameters (`?sslmode=require`, as hosts hand them out) on asyncpg.

Without a server, a refused connection shows the URL got as far as connecting; with
`TRIVIUM_TEST_POSTGRES_URL`, the translated settings are read back from the server.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url
from tests.db.servers import in_project

from trivium.cli import main
from trivium.db import Database
from trivium.errors import ConfigurationError

pytestmark = pytest.mark.drives_no_app

APP = """
from trivium import App
from trivium.db import Database

db = Database({url!r}, migrations="migrations")
app = App(plugins=[db])
"""

LIBPQ = "sslmode=disable&connect_timeout=5&application_name=shop&options=-c%20search_path%3Dpublic"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def run_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, *args: str) -> str:
    in_project(tmp_path, monkeypatch)
    module = f"url_app_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(APP.format(url=url))
    result = CliRunner().invoke(main, ["db", "--app", f"{module}:app", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.output


def test_libpq_parameters_reach_the_server_instead_of_a_type_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql://app@127.0.0.1:1/shop?{LIBPQ}"

    output = run_db(tmp_path, monkeypatch, url, "current")

    assert "[db-unreachable] no database server answers at 127.0.0.1:1" in output
    assert "Traceback" not in output


def test_a_parameter_asyncpg_does_not_take_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql://app@127.0.0.1:1/shop?sslmode=require&sslrootcert=/etc/ca.pem"

    output = run_db(tmp_path, monkeypatch, url, "current")

    assert "[db-url-parameter] the database URL parameter 'sslrootcert'" in output
    assert len(output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sslmode=required", "sslmode='required' is not a mode"),
        ("connect_timeout=soon", "connect_timeout='soon' is not a number"),
        ("options=search_path", "write settings as -c name=value"),
    ],
)
def test_a_libpq_value_asyncpg_cannot_use_is_refused(query: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as refused:
        Database(f"postgresql://app@localhost/shop?{query}")
    assert refused.value.code == "db-url-parameter"


def test_a_driver_that_is_not_installed_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = run_db(tmp_path, monkeypatch, "postgresql+pg8000://app@localhost/shop", "current")

    assert "[db-driver-missing]" in output
    assert "pip install pg8000" in output
    assert "Traceback" not in output


@pytest.mark.anyio
async def test_libpq_parameters_become_asyncpg_settings_on_postgresql() -> None:
    server = os.environ.get("TRIVIUM_TEST_POSTGRES_URL", "")
    if not server:
        pytest.skip("postgresql tests need TRIVIUM_TEST_POSTGRES_URL")
    base = make_url(server).render_as_string(hide_password=False)
    options = "options=-c%20search_path%3Dpublic%20-cstatement_timeout%3D4321"
    db = Database(f"{base}?sslmode=disable&connect_timeout=5&application_name=shop&{options}")
    try:
        async with db.engine.connect() as connection:
            name = (await connection.execute(text("SHOW application_name"))).scalar()
            timeout = (await connection.execute(text("SHOW statement_timeout"))).scalar()
            ssl = (
                await connection.execute(
                    text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                )
            ).scalar()
    finally:
        await db.dispose()
    assert name == "shop"
    assert timeout == "4321ms"
    assert ssl is False
