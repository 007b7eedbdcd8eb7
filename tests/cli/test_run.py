"""`trivium run` and `trivium.protocols.serve`: live servers and start-up errors."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from tests import live

from trivium.cli import main
from trivium.errors import ConfigurationError
from trivium.protocols import ServerConfig
from trivium.protocols import serve

pytestmark = pytest.mark.drives_no_app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "tests.cli.sample_app"
START_TIMEOUT = 15.0
MIGRATED_APP = """
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table

from trivium import App
from trivium.db import Database

metadata = MetaData()
Table("posts", metadata, Column("id", Integer, primary_key=True))
db = Database("sqlite+aiosqlite:///" + str(Path(__file__).parent / "site.db"),
              migrations=Path(__file__).parent / "migrations", metadata=metadata)
app = App()
db.init_app(app)


@app.get("/posts")
async def posts() -> list[int]:
    return []
"""


@pytest.fixture
def project(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in-process commands from the repository root, as a user runs them."""
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))


# --- live servers --------------------------------------------------------------------


def _get(server: live.Server) -> dict[str, Any]:
    response = httpx.get(server.url, timeout=5)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@contextlib.contextmanager
def running(
    tmp_path: Path, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> Iterator[live.Server]:
    with live.trivium_run(
        *args, cwd=cwd, log_dir=tmp_path, timeout=START_TIMEOUT, env=env
    ) as server:
        yield server


def _writing_bytecode() -> dict[str, str]:
    """A developer's environment: Python writes `.pyc` files (CI's forbids it)."""
    env = live.environment()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@pytest.mark.live
def test_run_serves_over_rsgi_on_granian_by_default(tmp_path: Path) -> None:
    with running(tmp_path, f"{SAMPLE}:app") as server:
        assert _get(server)["interface"] == "rsgi"


@pytest.mark.live
def test_run_serves_over_asgi_when_asked(tmp_path: Path) -> None:
    with running(tmp_path, f"{SAMPLE}:app", "--interface", "asgi") as server:
        assert _get(server)["interface"] == "asgi"


@pytest.mark.live
def test_run_falls_back_to_asgi_with_a_warning_when_app_has_no_rsgi(tmp_path: Path) -> None:
    with running(tmp_path, f"{SAMPLE}:asgi_app") as server:
        assert _get(server)["interface"] == "asgi"
        assert "has no __rsgi__ entry point; serving it over ASGI" in server.output()


@pytest.mark.live
def test_run_serves_a_function_that_is_an_asgi_app(tmp_path: Path) -> None:
    with running(tmp_path, f"{SAMPLE}:asgi_function") as server:
        assert _get(server)["interface"] == "asgi"


@pytest.mark.live
def test_run_leaves_alembic_info_lines_to_debug(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "migrated_app.py").write_text(MIGRATED_APP)
    env = {**live.environment(project), "TRIVIUM_APP": "migrated_app:app"}
    made = subprocess.run(
        live.trivium_command("db", "makemigrations", "-m", "create posts"),
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    # Start-up checks the migrations (one is not applied): Alembic runs, and stays quiet.
    with running(tmp_path, "migrated_app:app", cwd=project) as server:
        assert httpx.get(server.url + "/posts", timeout=5).status_code == 200
        assert "UNAPPLIED MIGRATION" in server.output()
        assert "alembic" not in server.output()


@pytest.mark.live
def test_run_calls_a_factory_import_string(tmp_path: Path) -> None:
    with running(tmp_path, f"{SAMPLE}:create_app()") as server:
        assert _get(server)["interface"] == "rsgi"


@pytest.mark.live
def test_run_serves_with_uvicorn(tmp_path: Path) -> None:
    with running(tmp_path, f"{SAMPLE}:app", "--server", "uvicorn") as server:
        assert _get(server)["interface"] == "asgi"
        assert "Uvicorn running" in server.output()


@pytest.mark.live
def test_run_spreads_requests_over_two_workers(tmp_path: Path) -> None:
    with running(tmp_path, f"{SAMPLE}:app", "--workers", "2") as server:
        pids: set[int] = set()
        deadline = time.monotonic() + 10
        while len(pids) < 2 and time.monotonic() < deadline:
            pids.add(_get(server)["pid"])  # a new connection each time
        assert len(pids) == 2, server.output()
        # Each worker knows it is one of two (batteries warn about per-process state).
        assert _get(server)["workers"] == "2"


def _served_message(server: live.Server, expected: str) -> str:
    """Ask the reloading server until it serves `expected` (15 s at most); return the last."""
    deadline = time.monotonic() + 15
    message = ""
    while message != expected and time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            message = _get(server)["message"]
        time.sleep(0.1)
    return message


@pytest.mark.live
def test_run_reload_serves_the_edited_code(tmp_path: Path) -> None:
    app_dir = tmp_path / "project"  # the server log stays outside the watched directory
    app_dir.mkdir()
    module = app_dir / "reload_app.py"
    module.write_text((ROOT / "tests/cli/sample_app.py").read_text())
    env = _writing_bytecode()
    with running(tmp_path, "reload_app:app", "--reload", cwd=app_dir, env=env) as server:
        assert _get(server)["message"] == "v1"
        # Same size, most likely the same second: a .pyc of v1 would pass for v2's.
        module.write_text(module.read_text().replace('MESSAGE = "v1"', 'MESSAGE = "v2"'))
        assert _served_message(server, "v2") == "v2", server.output()


@pytest.mark.live
def test_run_reload_survives_a_syntax_error_until_the_next_edit(tmp_path: Path) -> None:
    app_dir = tmp_path / "project"
    app_dir.mkdir()
    module = app_dir / "reload_app.py"
    source = (ROOT / "tests/cli/sample_app.py").read_text()
    module.write_text(source)
    env = _writing_bytecode()
    with running(tmp_path, "reload_app:app", "--reload", cwd=app_dir, env=env) as server:
        assert _get(server)["message"] == "v1"
        module.write_text(source + "\n  this is not python\n")
        deadline = time.monotonic() + 15
        while "Unexpected exit" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "SyntaxError" in server.output() or "IndentationError" in server.output()
        module.write_text(source.replace('MESSAGE = "v1"', 'MESSAGE = "v2"'))
        assert _served_message(server, "v2") == "v2", server.output()


@pytest.mark.live
def test_run_reload_ignores_database_files_and_tool_caches(tmp_path: Path) -> None:
    app_dir = tmp_path / "project"
    app_dir.mkdir()
    (app_dir / "reload_app.py").write_text((ROOT / "tests/cli/sample_app.py").read_text())
    with running(tmp_path, "reload_app:app", "--reload", cwd=app_dir) as server:
        pid = _get(server)["pid"]
        (app_dir / "app.db").write_bytes(b"SQLite format 3\x00")
        (app_dir / "app.db-journal").write_bytes(b"x")
        (app_dir / ".ruff_cache").mkdir()
        (app_dir / ".ruff_cache" / "cache.bin").write_bytes(b"x")
        (app_dir / "notes.py").write_text("# a source file: this one restarts the worker\n")
        deadline = time.monotonic() + 15
        current = pid
        while current == pid and time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                current = _get(server)["pid"]
            time.sleep(0.1)
        assert current != pid, server.output()  # the .py change was seen...
        restarts = server.output().count("Changes detected")
        assert restarts == 1, server.output()  # ...and only it
        assert "app.db" not in server.output()


@pytest.mark.live
def test_run_with_a_bad_import_string_exits_2_without_traceback() -> None:
    done = subprocess.run(
        live.trivium_command("run", "tests.cli.no_such_module:app"),
        cwd=ROOT,
        env=live.environment(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "Could not import module 'tests.cli.no_such_module'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


# --- argument and configuration errors (no server starts) -----------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interface", "wsgi"], "Invalid value for '--interface'"),
        (["--server", "hypercorn"], "Invalid value for '--server'"),
        (["--port", "0"], "Invalid value for '--port'"),
        (["--workers", "0"], "Invalid value for '--workers'"),
        (["--log-level", "loud"], "Invalid value for '--log-level'"),
    ],
)
def test_run_rejects_bad_options_with_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["run", f"{SAMPLE}:app", *args])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.usefixtures("project")
@pytest.mark.parametrize(
    ("target", "message"),
    [
        (SAMPLE, "is not an import string; write 'module:attribute'"),
        (f"{SAMPLE}:missing", f"Module '{SAMPLE}' has no attribute 'missing'"),
        (f"{SAMPLE}:not_an_app", "is of type int, not an ASGI or RSGI app"),
        (
            f"{SAMPLE}:create_app",
            f"[server.not-an-app] '{SAMPLE}:create_app' is a function, not an app: did you "
            f"mean '{SAMPLE}:create_app()'?",
        ),
        (f"{SAMPLE}:SampleApp", f"is a class, not an app: did you mean '{SAMPLE}:SampleApp()'?"),
        ("no_such_module:app", "Could not import module 'no_such_module'"),
    ],
)
def test_run_reports_a_bad_target_with_exit_2(target: str, message: str) -> None:
    result = CliRunner().invoke(main, ["run", target])
    assert result.exit_code == 2
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.usefixtures("project")
def test_a_factory_without_parentheses_is_refused_in_the_reload_check() -> None:
    with pytest.raises(ConfigurationError, match=r"did you mean '.*:create_app\(\)'") as caught:
        serve(f"{SAMPLE}:create_app", reload=True)
    assert caught.value.code == "server.not-an-app"


@pytest.mark.usefixtures("project")
def test_run_rejects_rsgi_on_uvicorn() -> None:
    result = CliRunner().invoke(
        main, ["run", f"{SAMPLE}:app", "--server", "uvicorn", "--interface", "rsgi"]
    )
    assert result.exit_code == 2
    assert "uvicorn serves ASGI only" in result.output


def test_serve_reports_where_an_import_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_app.py").write_text("app = None\nraise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        ConfigurationError, match=r"RuntimeError: boom \(at .*broken_app.py, line 2"
    ):
        serve("broken_app:app")


def test_serve_with_reload_checks_the_import_in_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_child_app.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError, match="RuntimeError: boom") as caught:
        serve("broken_child_app:app", reload=True)
    assert caught.value.code == "server.import-failed"


@pytest.mark.usefixtures("project")
@pytest.mark.parametrize("options", [{"reload": True}, {"workers": 2}])
def test_serve_needs_an_import_string_to_reload_or_fork(options: dict[str, Any]) -> None:
    from tests.cli.sample_app import app

    with pytest.raises(ConfigurationError, match="needs the app as an import string"):
        serve(app, **options)


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"interface": "wsgi"}, "server.unknown-interface"),
        ({"server": "hypercorn"}, "server.unknown-server"),
        ({"log_level": "loud"}, "server.unknown-log-level"),
        ({"port": 70000}, "server.invalid-option"),
        ({"workers": 0}, "server.invalid-option"),
        ({"host": ""}, "server.invalid-option"),
    ],
)
def test_server_config_rejects_bad_values(options: dict[str, Any], code: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ServerConfig(**options)
    assert caught.value.code == code


def test_serve_options_override_the_config() -> None:
    with pytest.raises(ConfigurationError, match="port=0"):
        serve("tests.cli.sample_app:app", ServerConfig(port=9000), port=0)


def test_serve_reports_a_factory_that_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "factory_app.py").write_text(
        "from trivium import App\n\n"
        "def create_app():\n    raise ValueError('no settings')\n\nnot_callable = 1\n"
        "app = App()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError, match="raised ValueError: no settings"):
        serve("factory_app:create_app()")
    with pytest.raises(ConfigurationError, match="is not a function; drop the"):
        serve("factory_app:not_callable()")
    # An app is callable (ASGI) but no factory: the fix, not a TypeError from inside trivium.
    with pytest.raises(ConfigurationError, match="is an app, not a factory; drop the") as caught:
        serve("factory_app:app()")
    assert caught.value.code == "server.not-an-app"


def test_serve_reports_a_syntax_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "syntax_app.py").write_text("app = (\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"SyntaxError: .*syntax_app.py, line 1"):
        serve("syntax_app:app")


# --- staying up ------------------------------------------------------------------------


@pytest.mark.live
def test_a_killed_worker_is_replaced_while_the_server_keeps_answering(tmp_path: Path) -> None:
    with running(tmp_path, f"{SAMPLE}:app", "--workers", "2") as server:
        pids: set[int] = set()
        deadline = time.monotonic() + 10
        while len(pids) < 2 and time.monotonic() < deadline:
            pids.add(_get(server)["pid"])
        assert len(pids) == 2, server.output()
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        answered, failed = 0, 0
        seen: set[int] = set()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (seen - pids and answered >= 50):
            try:
                seen.add(_get(server)["pid"])
                answered += 1
            except httpx.TransportError:
                failed += 1  # a connection the dying worker had accepted
        new = seen - pids
        assert new, f"no replacement worker answered:\n{server.output()}"
        assert victim not in seen
        assert answered >= 50
        assert failed <= 5
        assert "Respawning worker" in server.output()


@pytest.mark.live
def test_a_worker_that_keeps_dying_stops_the_server(tmp_path: Path) -> None:
    port = live.free_port()
    process = subprocess.Popen(
        live.trivium_command(
            "run", f"{SAMPLE}:crashing_app", "--workers", "2", "--port", str(port)
        ),
        cwd=ROOT,
        env=live.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=30)
    finally:
        live.stop(process)
    assert process.returncode == 1
    assert b"Respawning" not in output  # a worker that never started is not replaced


@pytest.mark.live
def test_run_refuses_a_port_another_server_listens_on(tmp_path: Path) -> None:
    with running(tmp_path, f"{SAMPLE}:app") as server:
        port = server.url.rsplit(":", 1)[1].strip("/")
        result = subprocess.run(
            live.trivium_command("run", f"{SAMPLE}:app", "--port", port),
            cwd=ROOT,
            env=live.environment(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 2
        assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
        assert "Traceback" not in result.stderr
        assert _get(server)["interface"] == "rsgi"


def test_no_respawn_is_a_granian_option() -> None:
    with pytest.raises(ConfigurationError, match="uvicorn always replaces a dead worker"):
        ServerConfig(server="uvicorn", respawn_workers=False)
