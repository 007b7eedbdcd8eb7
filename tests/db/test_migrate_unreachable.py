"""`trivium db` against a host that does not resolve or a server that never answers: one line.

A name the DNS does not know and a server that accepts connections but stays silent
(hung, or behind a network black hole) used to end the command with a driver traceback
of some 170 lines, or hang it for good. The stalled server is a real one behind
`tests.faults.FaultProxy`; connecting gives up after the database's `timeout`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from click.testing import Result
from tests.faults import FaultProxy
from tests.faults import fault_proxy

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

BACKENDS = {"postgresql": "TRIVIUM_TEST_POSTGRES_URL", "mysql": "TRIVIUM_TEST_MYSQL_URL"}

APP = """
from pathlib import Path

from sqlalchemy import MetaData

from trivium import App
from trivium.db import Database

db = Database({url!r}, migrations=Path(__file__).parent / "migrations", metadata=MetaData(),
              timeout=1)
app = App()
db.init_app(app)
"""

COMMANDS = [["migrate"], ["current"], ["check"], ["history"]]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _run(folder: Path, url: str, *args: str) -> Result:
    module = f"unreachable_app_{uuid.uuid4().hex[:8]}"
    (folder / f"{module}.py").write_text(APP.format(url=url))
    return CliRunner().invoke(main, ["db", *args, "--app", f"{module}:app"])


def _one_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.output.count("\n") == 1, result.output
    return result.output


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_a_host_that_does_not_resolve_is_one_line(
    in_tmp: Path, scheme: str, command: list[str]
) -> None:
    result = _run(in_tmp, f"{scheme}://app@no-such-host.invalid/app", *command)
    line = _one_line(result)
    assert "[db-unreachable]" in line
    assert "no-such-host.invalid" in line


@pytest.fixture(params=["postgresql", "mysql"])
def stalled(request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    url = os.environ.get(BACKENDS[request.param], "")
    if not url:
        pytest.skip(f"{request.param} tests need {BACKENDS[request.param]}")
    with fault_proxy(url) as proxy:
        proxy.stall()
        yield proxy


@pytest.mark.parametrize("command", COMMANDS)
def test_a_server_that_never_answers_is_one_line_after_the_timeout(
    in_tmp: Path, stalled: FaultProxy, command: list[str]
) -> None:
    started = time.monotonic()
    result = _run(in_tmp, stalled.url, *command)
    line = _one_line(result)
    assert time.monotonic() - started < 15  # the timeout (1 s) per connection, not forever
    assert "[db-unreachable]" in line
    assert f"127.0.0.1:{stalled.port}" in line
