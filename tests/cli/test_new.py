"""`trivium new`: the generated project runs its own tests (on SQLite, and PostgreSQL when set).

Projects are generated into a temporary folder once per variant; their tests run in a
subprocess with this interpreter (no new virtualenv), which is the one `make test` uses
when given `PYTHON=...`.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main
from trivium.cli._new import trivium_source


def _generate(parent: Path, *args: str) -> Path:
    result = CliRunner().invoke(main, ["new", "blog", "--directory", str(parent / "blog"), *args])
    assert result.exit_code == 0, result.output
    return parent / "blog"


def _env(database_url: str | None = None) -> dict[str, str]:
    # `make test` runs this suite: the outer make's MAKEFLAGS/MAKELEVEL would make the
    # project's own make print "Entering directory" lines and inherit its flags.
    outer_make = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TRIVIUM_") and k not in outer_make
    }
    if "TRIVIUM_TEST_INTERFACE" in os.environ:  # the RSGI pass drives these apps over RSGI too
        env["TRIVIUM_TEST_INTERFACE"] = os.environ["TRIVIUM_TEST_INTERFACE"]
    if database_url is not None:
        env["TRIVIUM_DATABASE_URL"] = database_url
    # A faster start: the generated tests need only anyio's pytest plugin and trivium's.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTEST_ADDOPTS"] = "-p anyio"
    return env


def _run_tests(project: Path, database_url: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=project,
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("new"))


def test_the_project_has_its_files_and_first_migration(project: Path) -> None:
    for name in ("Makefile", "Dockerfile", "compose.yaml", "README.md", ".env", ".gitignore"):
        assert (project / name).is_file(), name
    migrations = list((project / "blog" / "migrations").glob("*_initial.py"))
    assert len(migrations) == 1
    text = migrations[0].read_text()
    assert "op.create_table('blog_note'" in text
    # Note has no foreign key to a battery's tables: it depends on none (Redis or not).
    assert "depends_on: str | tuple[str, ...] | None = None" in text
    compose = (project / "compose.yaml").read_text()
    assert "postgres:17" in compose
    assert "redis:7" in compose
    assert re.search(r"TRIVIUM_SECRET_KEY=\S{48,}", (project / ".env").read_text())


def test_the_project_depends_on_the_released_trivium_and_make_installs_the_checkout(
    project: Path,
) -> None:
    # The suite runs from a checkout: pyproject.toml (what `pip install .` in the Docker
    # image reads) names a released version, never a file:// path of this machine...
    version = importlib.metadata.version("trivium")
    pyproject = (project / "pyproject.toml").read_text()
    assert f'"trivium[db,auth,templates,forms,redis,mail]>={version}"' in pyproject
    assert "file://" not in pyproject
    assert "file://" not in (project / "Dockerfile").read_text()
    # ...and the Makefile installs the checkout into .venv before the project.
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", ".venv/bin/python"],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    checkout = Path(__file__).resolve().parents[2]
    source = trivium_source()
    assert source is not None
    assert source.endswith(f"'{checkout}[db,auth,templates,forms,redis,mail]'")
    assert done.stdout.splitlines() == [
        "python3 -m venv .venv",
        f".venv/bin/pip install {source}",
        ".venv/bin/pip install -e '.[dev]'",
    ]


def test_make_test_passes_on_sqlite(project: Path) -> None:
    done = subprocess.run(
        ["make", "test", f"PYTHON={sys.executable}"],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "16 passed" in done.stdout
    assert not (project / "blog.db").exists()  # tests never touch the development database


def test_the_tests_pass_on_postgresql(project: Path) -> None:
    # The compose file's database; MariaDB is covered by tests/db/test_testing_plugin.py.
    url = os.environ.get("TRIVIUM_TEST_POSTGRES_URL", "")
    if not url:
        pytest.skip("needs TRIVIUM_TEST_POSTGRES_URL")
    assert "16 passed" in _run_tests(project, url)


def test_password_resets_work_in_development_out_of_the_box(project: Path) -> None:
    # The link's address is set and printed in full (tests/test_mail.py of the project
    # sends a reset through the HTML page: the `make test` runs above include it).
    assert "TRIVIUM_SITE_URL=http://localhost:8000\n" in (project / ".env").read_text()
    assert "TRIVIUM_DEBUG=true\n" in (project / ".env").read_text()
    assert "ConsoleMailer(show_secrets=True)" in (project / "blog" / "app.py").read_text()
    assert (project / "tests" / "test_mail.py").is_file()
    readme = (project / "README.md").read_text()
    assert "TRIVIUM_SITE_URL" in readme
    assert "TRIVIUM_MAIL_URL" in readme
    assert "Sign-up is off" in readme
    assert "TRIVIUM_SIGNUP=true" in readme


def test_the_project_has_a_favicon(project: Path) -> None:
    icon = (project / "blog" / "static" / "favicon.ico").read_bytes()
    assert icon.startswith(b"\x00\x00\x01\x00")  # an ICO file, copied byte for byte
    base = (project / "blog" / "templates" / "base.html").read_text()
    assert """<link rel="icon" href="{{ static_url('favicon.ico') }}">""" in base


def test_a_project_without_auth_passes_its_tests(tmp_path: Path) -> None:
    project = _generate(tmp_path, "--no-auth")
    assert "Auth" not in (project / "blog" / "app.py").read_text()
    assert "Admin" not in (project / "blog" / "app.py").read_text()
    assert not (project / "blog" / "templates" / "me.html").exists()
    assert not (project / "tests" / "test_mail.py").exists()
    assert "Sign-up" not in (project / "README.md").read_text()
    assert "9 passed" in _run_tests(project)


def test_the_database_and_admin_options(tmp_path: Path) -> None:
    project = _generate(tmp_path, "--db", "mysql", "--no-admin")
    env = (project / ".env").read_text()
    assert "TRIVIUM_DATABASE_URL=mysql://blog:blog@127.0.0.1:3306/blog" in env
    compose = (project / "compose.yaml").read_text()
    assert "mariadb:11" in compose
    assert "TRIVIUM_DATABASE_URL: mysql://blog:blog@db/blog" in compose
    app = (project / "blog" / "app.py").read_text()
    assert "Auth.from_settings" in app
    assert "Admin" not in app


def test_admin_without_auth_is_refused(tmp_path: Path) -> None:
    refused = CliRunner().invoke(
        main, ["new", "x", "--directory", str(tmp_path / "x"), "--no-auth", "--admin"]
    )
    assert refused.exit_code == 2
    assert "--admin needs --auth" in refused.output


@pytest.mark.parametrize("name", ["Blog", "1blog", "class", "my-blog", "trivium"])
def test_a_name_that_is_not_a_package_name_is_refused(name: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new", name, "--directory", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "cannot be a Python package name" in result.output


def test_a_folder_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "blog").mkdir()
    (tmp_path / "blog" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["new", "blog", "--directory", str(tmp_path / "blog")])
    assert result.exit_code == 1
    assert "is not empty" in result.output
    assert (tmp_path / "blog" / "keep.txt").read_text() == "mine"
