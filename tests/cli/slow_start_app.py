"""An app slow to start, for the shutdown tests: a server asked to stop meanwhile.

Its import waits `SLOW_IMPORT` seconds and its lifespan start-up `SLOW_STARTUP`, each
after touching `<SLOW_START_MARKS>/<importing|starting>-<pid>` so a test knows when.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from trivium import App


def _mark(stage: str) -> None:
    folder = os.environ.get("SLOW_START_MARKS")
    if folder:
        Path(folder, f"{stage}-{os.getpid()}").touch()


_mark("importing")
time.sleep(float(os.environ.get("SLOW_IMPORT", "0")))


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[None]:
    _mark("starting")
    await anyio.sleep(float(os.environ.get("SLOW_STARTUP", "0")))
    yield


app = App(lifespan=lifespan)


@app.get("/")
async def index() -> dict[str, int]:
    return {"pid": os.getpid()}
