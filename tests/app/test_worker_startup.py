"""What a Granian RSGI worker does to the cyclic collector once the app has started.

Each case runs in a fresh interpreter: the collector's settings are process-wide.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.drives_no_app

SRC = str(Path(__file__).resolve().parents[2] / "src")

WORKER = """
import asyncio, gc, json, sys
from trivium import App
app = App()

@app.get("/")
async def home() -> dict[str, str]:
    return {"ok": "yes"}

if sys.argv[1:] == ["custom"]:
    gc.set_threshold(1234, 5, 6)  # the app's own choice, made at import
loop = asyncio.new_event_loop()
app.__rsgi_init__(loop)  # start-up, as a Granian worker runs it
print(json.dumps({"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
app.__rsgi_del__(loop)
"""


def _start(*args: str, code: str = WORKER) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env={"PYTHONPATH": SRC, "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_a_started_worker_freezes_start_up_and_raises_the_young_threshold() -> None:
    from trivium.protocols._worker import YOUNG_THRESHOLD

    started = _start()
    assert started["threshold"] == [YOUNG_THRESHOLD, 10, 10]
    assert isinstance(started["frozen"], int)
    assert started["frozen"] > 10_000  # modules, routes and validators left the scans


def test_a_threshold_the_app_set_itself_is_kept() -> None:
    started = _start("custom")
    assert started["threshold"] == [1234, 5, 6]


LIFESPAN = """
import asyncio, contextlib, json
import anyio
from trivium import App

events = []

@contextlib.asynccontextmanager
async def lifespan(app):
    # A task group held over the app's life, as the MCP SDK's session manager does.
    async with anyio.create_task_group() as group:
        group.start_soon(anyio.sleep_forever)
        events.append("started")
        yield {"ready": True}
        events.append("stopping")
        group.cancel_scope.cancel()
    events.append("stopped")

app = App(lifespan=lifespan)
loop = asyncio.new_event_loop()
app.__rsgi_init__(loop)  # Granian: start-up, then the loop serves, then shutdown
loop.run_until_complete(asyncio.sleep(0.01))
app.__rsgi_del__(loop)
print(json.dumps({"events": events}))
"""


def test_a_lifespan_holding_a_task_group_starts_and_stops_in_one_task() -> None:
    # Entered in __rsgi_init__'s run of the loop and left in __rsgi_del__'s, the task
    # group's cancel scope failed: "exit cancel scope in a different task".
    assert _start(code=LIFESPAN) == {"events": ["started", "stopping", "stopped"]}


FAILING = """
import asyncio
from trivium import App
from trivium.errors import ConfigurationError

app = App()

@app.on_event("startup")
async def check() -> None:
    raise ConfigurationError("the database does not exist", "db-missing")

app.__rsgi_init__(asyncio.new_event_loop())
"""


def test_a_start_up_configuration_error_ends_the_worker_with_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FAILING)],
        env={"PYTHONPATH": SRC, "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 3
    assert "start-up failed" in proc.stderr
    assert "the database does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr
