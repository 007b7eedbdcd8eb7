"""`trivium new --db mysql`: the README says how to create the database, and it works.

The commands for a server of one's own are run on the MariaDB of
`TRIVIUM_TEST_MYSQL_URL` (as its administrator), then the project's user creates and
drops its test database as the project's tests do.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.db.servers import execute

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app


def _generate(parent: Path, name: str) -> tuple[Path, str]:
    folder = parent / name
    args = ["new", name, "--no-auth", "--db", "mysql", "--directory", str(folder)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_a_mysql_project_says_how_to_create_its_database(tmp_path: Path) -> None:
    project, output = _generate(tmp_path, "mynotes")
    assert "create the database first: see README.md, The database" in output
    readme = (project / "README.md").read_text()
    assert "### The database" in readme
    assert "mysql://mynotes:mynotes@127.0.0.1:3306/mynotes" in readme
    assert "docker run -d --name mynotes-db -p 127.0.0.1:3306:3306" in readme
    assert "GRANT ALL PRIVILEGES ON test_mynotes.* TO 'mynotes'@'%'" in readme
    assert "sudo mariadb -e \"CREATE USER IF NOT EXISTS 'mynotes'@'127.0.0.1'" in readme


def test_the_readme_commands_make_a_database_the_project_and_its_tests_can_use(
    tmp_path: Path,
) -> None:
    admin = os.environ.get("TRIVIUM_TEST_MYSQL_URL", "")
    if not admin:
        pytest.skip("needs TRIVIUM_TEST_MYSQL_URL")
    name = f"notes_{uuid.uuid4().hex[:8]}"
    project, _ = _generate(tmp_path, name)
    readme = (project / "README.md").read_text()
    [sql] = re.findall(r'^\$ sudo mariadb -e "(.*)"$', readme, re.MULTILINE)
    own = f"mysql://{name}:{name}@127.0.0.1:3306/{name}"
    assert f"TRIVIUM_DATABASE_URL={own}\n" in (project / ".env").read_text()
    try:
        execute(admin, *sql.split("; "))
        execute(own, "CREATE TABLE probe (id INTEGER PRIMARY KEY)", "DROP TABLE probe")
        test_db = own.rsplit("/", 1)[0]
        execute(test_db, f"CREATE DATABASE test_{name}", f"DROP DATABASE test_{name}")
    finally:
        execute(
            admin,
            f"DROP DATABASE IF EXISTS {name}",
            f"DROP DATABASE IF EXISTS test_{name}",
            f"DROP USER IF EXISTS '{name}'@'127.0.0.1'",
        )
