"""What a Granian RSGI worker does to the cyclic collector once the app has started.

Each case runs in a fresh interpreter: the collector's settings are process-wide.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

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


def _start(*args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WORKER), *args],
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
