"""What a worker loads: deterministic module budgets, checked in fresh interpreters.

A hello-world worker's memory is mostly the modules it imports. These tests pin what
`from trivium import App` and serving async-only requests over RSGI must NOT load: the
server launcher (multiprocessing, subprocess, pickle), cookie-setting helpers, the
OpenAPI battery's document generator and anyio's asyncio backend (needed only for
thread-pool work). Each runs in a new interpreter so that other tests' imports don't
count.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import trivium

pytestmark = pytest.mark.drives_no_app

SRC = str(Path(trivium.__file__).resolve().parents[1])

LAUNCHER = ["multiprocessing", "subprocess", "pickle", "trivium.protocols._server"]
OFF_THE_HOT_PATH = ["html", "http.cookies", "email.utils", "anyio._backends._asyncio"]
# pydantic (about half of `import trivium`'s time) loads when the first route that
# validates something is compiled, not when the package is imported.
AT_ROUTE_COMPILATION = ["pydantic", "pydantic_core"]
BATTERIES = [
    "trivium.openapi",
    "trivium.cli",
    "trivium.db",
    "trivium.auth",
    "trivium.sessions",
    "trivium.templating",
    "trivium.forms",
    "jinja2",
    "sqlalchemy",
]

SERVE_ASYNC_APP = """
import asyncio
import sys
import json

from trivium import App

app = App()


@app.get("/plaintext")
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/items/{item_id}")
async def item(item_id: int, q: str | None = None) -> dict[str, object]:
    return {"id": item_id, "q": q}


class Scope:
    proto = "http"
    http_version = "1.1"
    rsgi_version = "1.5"
    server = "127.0.0.1:8000"
    client = "127.0.0.1:5000"
    scheme = "http"
    authority = None

    def __init__(self, path: str, query: str) -> None:
        self.method = "GET"
        self.path = path
        self.query_string = query
        self.headers = Headers(host="127.0.0.1:8000")


class Headers(dict):
    def get_all(self, key):
        return [self[key]] if key in self else []


class Protocol:
    status = 0

    def response_bytes(self, status, headers, body):
        self.status = status

    response_str = response_bytes

    def response_empty(self, status, headers):
        self.status = status


async def main() -> list[int]:
    statuses = []
    for path, query in [("/plaintext", ""), ("/items/5", "q=x")]:
        protocol = Protocol()
        await app.__rsgi__(Scope(path, query), protocol)
        statuses.append(protocol.status)
    return statuses


loop = asyncio.new_event_loop()
app.__rsgi_init__(loop)  # start-up as a Granian worker does it
statuses = loop.run_until_complete(main())
print(json.dumps({"statuses": statuses, "modules": sorted(sys.modules)}))
"""


def _run(code: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={"PYTHONPATH": SRC, "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _loaded(modules: object, names: list[str]) -> list[str]:
    assert isinstance(modules, list)
    return [name for name in names if name in modules]


def test_importing_the_app_class_loads_no_launcher_or_battery() -> None:
    result = _run(
        "import json, sys\nfrom trivium import App\nprint(json.dumps({'modules': sorted(sys.modules)}))"
    )
    loaded = _loaded(
        result["modules"], LAUNCHER + OFF_THE_HOT_PATH + AT_ROUTE_COMPILATION + BATTERIES
    )
    assert loaded == []


def test_serving_async_handlers_over_rsgi_loads_only_the_core() -> None:
    result = _run(SERVE_ASYNC_APP)
    assert result["statuses"] == [200, 200]
    # asyncio itself imports subprocess, and pydantic email.utils: only ours are checked.
    # The docs routes are installed, but the document is generated on first request only.
    heavy = [
        "multiprocessing",
        "pickle",
        "trivium.protocols._server",
        "http.cookies",
        "anyio._backends._asyncio",
        "trivium.openapi._document",
        "trivium.cli",
    ]
    assert _loaded(result["modules"], heavy) == []


def test_server_launcher_names_still_import_from_protocols() -> None:
    result = _run(
        "import json, sys\nfrom trivium.protocols import ServerConfig, serve\n"
        "print(json.dumps({'port': ServerConfig(port=8081).port, 'serve': callable(serve)}))"
    )
    assert result == {"port": 8081, "serve": True}
