"""The observability benchmark's app: the `json` scenario's handler, observed or not.

`BENCH_OBSERVE` picks what is on: `none` (the bare app), `ids` (request IDs and the
logging `trivium run` configures), `metrics` (plus Prometheus metrics) or `access-log`
(plus one access log line per request).
"""

from __future__ import annotations

import os

from trivium import App
from trivium.observability import Observability

MODE = os.environ.get("BENCH_OBSERVE", "none")
_OPTIONS = {
    "ids": {},
    "metrics": {"metrics": True},
    "access-log": {"metrics": True, "access_log": True},
}
if MODE != "none" and MODE not in _OPTIONS:
    raise SystemExit(f"BENCH_OBSERVE={MODE!r}: use none, ids, metrics or access-log")

plugins = [Observability(**_OPTIONS[MODE])] if MODE in _OPTIONS else []
app = App(plugins=plugins, openapi_url=None)


@app.get("/json")
async def json() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/ready")
async def ready() -> dict[str, str]:
    return {"status": "ok"}
