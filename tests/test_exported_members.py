from __future__ import annotations

import importlib

import pytest

import trivium

pytestmark = pytest.mark.drives_no_app

PUBLIC_MODULES = [
    "trivium",
    "trivium.app",
    "trivium.http",
    "trivium.routing",
    "trivium.params",
    "trivium.di",
    "trivium.middleware",
    "trivium.responses",
    "trivium.testing",
    "trivium.db",
    "trivium.errors",
    "trivium.environment",
    "trivium.openapi",
    "trivium.staticfiles",
    "trivium.templating",
    "trivium.forms",
    "trivium.stores",
    "trivium.sessions",
    "trivium.csrf",
    "trivium.auth",
    "trivium.audit",
    "trivium.channels",
    "trivium.admin",
    "trivium.interop",
    "trivium.port",
    "trivium.compat.fastapi",
    "trivium.compat.starlette",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions
    # (a one-letter capital, such as trivium.db's `Q`, counts as a class for ruff).
    assert exported == sorted(
        exported,
        key=lambda n: (0 if n.isupper() and len(n) > 1 else 1 if n[0].isupper() else 2, n),
    )
    for member in exported:
        assert getattr(module, member) is not None


def test_core_vocabulary_is_importable_from_the_top() -> None:
    names = {
        "App",
        "Router",
        "Request",
        "Response",
        "WebSocket",
        "Depends",
        "Query",
        "Path",
        "Header",
        "Cookie",
        "Body",
        "Form",
        "File",
        "UploadFile",
        "HTTPException",
        "BackgroundTasks",
        "status",
    }
    assert names <= set(trivium.__all__)
    assert trivium.status.HTTP_404_NOT_FOUND == 404


def test_import_trivium_loads_no_battery_or_server() -> None:
    import subprocess
    import sys

    code = (
        "import sys, trivium; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('granian', 'uvicorn', 'click', 'httpx', 'jinja2', 'sqlalchemy') "
        "or m.startswith(('trivium.cli', 'trivium.openapi', 'trivium.testing'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
