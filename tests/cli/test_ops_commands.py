"""`trivium routes`, `trivium shell`, `trivium check [--deploy]` and a project's own commands."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

APP = """
from pathlib import Path

import click
from sqlalchemy import Column, Integer, MetaData, Table

from trivium import App
from trivium.db import Database
from trivium.middleware import Middleware, SecurityHeadersMiddleware, TrustedHostMiddleware
from trivium.conf import Settings
from trivium.plugins import Plugin
from trivium.sessions import Sessions

metadata = MetaData()
Table("posts", metadata, Column("id", Integer, primary_key=True))
db = Database("sqlite+aiosqlite:///" + str(Path(__file__).parent / "site.db"),
              migrations=Path(__file__).parent / "migrations", metadata=metadata)


class Greeter(Plugin):
    def cli_commands(self):
        @click.command()
        @click.argument("name")
        def greet(name):
            \"\"\"Greet someone.\"\"\"
            # The app is built: the routes plugins add (the OpenAPI document) are there.
            paths = sorted({{getattr(route, "path", "") for route in app.routes}})
            click.echo(f"hello {{name}} from {{', '.join(paths)}}")

        return [greet]


SAFE = {safe}
middleware = [
    Middleware(TrustedHostMiddleware, allowed_hosts=["example.com"]),
    Middleware(SecurityHeadersMiddleware),
] if SAFE else []
settings = Settings(secret_key={key!r}) if SAFE else Settings()
sessions = Sessions(secret_key="{good}", secure=True if SAFE else None)
app = App(debug=not SAFE, plugins=[settings, db, sessions, Greeter()], middleware=middleware)


@app.get("/posts/{{post_id}}", name="post")
async def post(post_id: int) -> dict[str, int]:
    return {{"id": post_id}}
"""

GOOD_KEY = "hT3k9-Qz0Lw8_PbX2nVr5sYc7mJd4aFg6eUi1oK"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(*, safe: bool) -> str:
        module = f"site_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{module}.py").write_text(APP.format(safe=safe, key=GOOD_KEY, good=GOOD_KEY))
        return f"{module}:app"

    return write


def test_routes_lists_method_path_name_and_handler(project) -> None:  # type: ignore[no-untyped-def]
    target = project(safe=True)
    result = CliRunner().invoke(main, ["routes", "--app", target])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["METHOD", "PATH", "NAME", "HANDLER"]
    assert lines[1].split() == ["GET", "/posts/{post_id}", "post", f"{target.split(':')[0]}.post"]
    assert any(line.split()[:2] == ["GET", "/openapi.json"] for line in lines)


def test_check_without_deploy_builds_the_app(project) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["check", "--app", project(safe=False)])
    assert (result.exit_code, result.output) == (0, "System check identified no issues.\n")


def test_check_deploy_reports_each_problem_with_its_id(project) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["check", "--deploy", "--app", project(safe=False)])
    assert result.exit_code == 1
    ids = [line.split()[1].rstrip(":") for line in result.output.splitlines()[:-1]]
    assert ids == [
        "deploy.debug",
        "deploy.env",
        "deploy.secret-key",
        "deploy.allowed-hosts",
        "deploy.cookie-secure",
        "deploy.hsts",
    ]
    assert result.output.splitlines()[-1] == "System check identified 6 issue(s)."


def test_check_deploy_passes_a_production_setup(project, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRIVIUM_ENV", "production")
    result = CliRunner().invoke(main, ["check", "--deploy", "--app", project(safe=True)])
    assert (result.exit_code, result.output) == (0, "System check identified no issues.\n")


def test_check_deploy_fails_on_unapplied_migrations(
    project, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRIVIUM_ENV", "production")
    target = project(safe=True)
    made = CliRunner().invoke(main, ["db", "makemigrations", "-m", "posts", "--app", target])
    assert made.exit_code == 0, made.output
    result = CliRunner().invoke(main, ["check", "--deploy", "--app", target])
    assert result.exit_code == 1
    assert result.output.startswith("ERROR deploy.migrations: database 'default' has 1 unapplied")
    assert CliRunner().invoke(main, ["db", "migrate", "--app", target]).exit_code == 0
    result = CliRunner().invoke(main, ["check", "--deploy", "--app", target])
    assert result.exit_code == 0, result.output


def test_warnings_fail_with_fail_level_warning(project) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main, ["check", "--deploy", "--fail-level", "warning", "--app", project(safe=True)]
    )
    assert result.exit_code == 1
    assert "WARNING deploy.env" in result.output


def test_shell_awaits_at_the_prompt_with_app_db_and_session(project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = project(safe=True)
    script = (
        "from sqlalchemy import text\n"
        "row = await session.execute(text('SELECT 40 + 2'))\n"
        "print('answer', row.scalar(), app.title, db.name)\n"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    done = subprocess.run(  # noqa: S603 - our interpreter and module
        [sys.executable, "-m", "trivium.cli", "shell", "--app", target],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(src)])},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "answer 42 Trivium default" in done.stdout
    assert "In scope: app, asyncio, db, session, settings" in done.stderr


def test_a_projects_plugin_adds_a_command(project, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRIVIUM_APP", project(safe=True))
    result = CliRunner().invoke(main, ["greet", "Ada"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("hello Ada from /docs"), result.output
    assert "/openapi.json" in result.output
    assert "/posts/{post_id}" in result.output


def _read_until(fd: int, marker: bytes, seen: bytearray, deadline: float) -> bytes:
    """Read the terminal until `marker` appears after what was `seen` already."""
    import select

    start = len(seen)
    while marker not in seen[start:]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {marker!r} on the terminal; got {bytes(seen[start:])!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the shell closed the terminal
                chunk = b""
            if not chunk:
                raise AssertionError(f"terminal closed before {marker!r}: {bytes(seen)!r}")
            seen.extend(chunk)
    return bytes(seen[start:])


def test_shell_on_a_terminal_survives_errors_takes_blocks_and_exits_on_ctrl_d(  # type: ignore[no-untyped-def]
    project, tmp_path: Path
) -> None:
    import pty

    target = project(safe=True)
    src = Path(__file__).resolve().parents[2] / "src"
    master, slave = pty.openpty()
    process = subprocess.Popen(  # noqa: S603 - our interpreter and module
        [sys.executable, "-m", "trivium.cli", "shell", "--app", target],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(src)])},
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    deadline = time.monotonic() + 60
    try:
        _read_until(master, b">>> ", seen, deadline)
        os.write(master, b"1 / 0\n")
        assert b"ZeroDivisionError" in _read_until(master, b">>> ", seen, deadline)
        os.write(master, b"async def double(n):\n    return 2 * n\n\n")
        _read_until(master, b">>> ", seen, deadline)
        os.write(master, b"print('doubled', await double(21), app.title)\n")
        assert b"doubled 42 Trivium" in _read_until(master, b">>> ", seen, deadline)
        os.write(master, b"\x04")  # Ctrl-D on an empty line ends the shell
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        os.close(master)
