"""Batteries reach the core and each other through public names only.

The batteries are the packages the import-linter contract "Core never imports a
battery" (pyproject.toml) forbids the core to import; that contract keeps the core
free of them. This test keeps the other direction honest: a module of a battery may
import another package's public modules and names (`trivium.http.Request`), never its
private ones (`trivium.http._request`, `from trivium.db import _engine`), so a battery
works for as long as the public API it is written on does, as a third-party one would.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.drives_no_app

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "trivium"
CONTRACT = "Core never imports a battery"


def _batteries() -> set[str]:
    config = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["name"] == CONTRACT]
    return {name.split(".")[1] for name in contract["forbidden_modules"]}


def _private_imports(source: str, own: str) -> list[tuple[int, str]]:
    """Return (line, what) for each private name of another package `source` imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported = [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            imported = [(alias.name, "") for alias in node.names]
        else:
            continue
        for module, name in imported:
            parts = module.split(".")
            if parts[0] != "trivium" or parts[1:2] == [own]:
                continue
            if any(part.startswith("_") for part in parts[1:]) or name.startswith("_"):
                found.append((node.lineno, f"{module}{'.' + name if name else ''}"))
    return found


def test_the_battery_list_names_real_packages() -> None:
    batteries = _batteries()
    assert {"auth", "db", "sessions", "admin", "tasks", "ratelimit"} <= batteries
    assert all((PACKAGE / name / "__init__.py").is_file() for name in batteries)


def test_batteries_import_no_private_name_of_another_package() -> None:
    problems = []
    for battery in sorted(_batteries()):
        for path in sorted((PACKAGE / battery).rglob("*.py")):
            for line, what in _private_imports(path.read_text(), battery):
                problems.append(f"{path.relative_to(PACKAGE)}:{line} imports {what}")
    assert problems == []


def test_the_check_finds_private_imports() -> None:
    source = (
        "from trivium.http._request import Request\n"
        "import trivium.db._engine\n"
        "from trivium.db import _engine\n"
        "from trivium.http import Request\n"  # public: fine
        "from trivium.auth._models import User\n"  # its own package: fine
        "from ._models import Group\n"  # relative, its own package: fine
    )
    assert _private_imports(source, "auth") == [
        (1, "trivium.http._request.Request"),
        (2, "trivium.db._engine"),
        (3, "trivium.db._engine"),
    ]
