"""The interop benchmark's app: a Flask app mounted in trivium next to a trivium route.

`/legacy/upload` reads its body in pieces and counts it; `/legacy/slow` streams a chunk
every half second for `BENCH_SLOW_SECONDS`; `/legacy/hello` is a small JSON view; `/livez`
is trivium's own. Flask runs on the mount's own pool of `BENCH_LEGACY_WORKERS` threads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from flask import Flask
from flask import Response
from flask import request

from trivium import App
from trivium.interop import WSGIApp

SLOW_SECONDS = float(os.environ.get("BENCH_SLOW_SECONDS", "30"))

legacy = Flask(__name__)


@legacy.post("/upload")
def upload() -> dict[str, int]:
    size = 0
    while chunk := request.stream.read(1 << 20):
        size += len(chunk)
    return {"bytes": size}


@legacy.get("/slow")
def slow() -> Response:
    def chunks() -> Iterator[bytes]:
        deadline = time.monotonic() + SLOW_SECONDS
        while time.monotonic() < deadline:
            yield b"tick\n"
            time.sleep(0.5)

    return Response(chunks(), mimetype="text/plain")


@legacy.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}


app = App()
app.mount("/legacy", WSGIApp(legacy, workers=int(os.environ.get("BENCH_LEGACY_WORKERS", "32"))))


@app.get("/livez")
async def livez() -> dict[str, str]:
    return {"status": "ok"}
