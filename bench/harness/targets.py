"""The registry of apps (framework x server x suite) and the commands that serve them.

Every server runs one worker process; the runner adds the CPU pinning. WSGI servers
get 8 threads (gunicorn gthread, Granian blocking threads) so that sync apps can
overlap database waits; the DB apps size their pools to match. The full-stack suite
also serves Django on gunicorn's plain sync worker (one request at a time), the
deployment Django's own documentation starts from.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from harness.scenarios import BASIC
from harness.scenarios import BENCH_DIR
from harness.scenarios import DB
from harness.scenarios import FULL

APPS_DIR = BENCH_DIR / "apps"
WSGI_THREADS = 8

SUBJECT = "trivium"
BASELINE_RSGI = "raw_rsgi"
BASELINES = ("raw_rsgi", "raw_asgi")


def _granian(interface: str, module: str, port: int) -> list[str]:
    cmd = [sys.executable, "-m", "granian", "--interface", interface]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    cmd += ["--runtime-threads", "1", "--no-access-log", "--log-level", "warning"]
    if interface == "wsgi":
        cmd += ["--blocking-threads", str(WSGI_THREADS)]
    return [*cmd, f"{module}:app"]


def _uvicorn(module: str, port: int) -> list[str]:
    cmd = [sys.executable, "-m", "uvicorn", f"{module}:app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--loop", "uvloop", "--http", "httptools", "--lifespan", "on"]
    return [*cmd, "--no-access-log", "--log-level", "warning"]


def _gunicorn(module: str, port: int, worker_class: str = "gthread") -> list[str]:
    cmd = [sys.executable, "-m", "gunicorn", f"{module}:app", "--bind", f"127.0.0.1:{port}"]
    cmd += ["--workers", "1", "--worker-class", worker_class]
    if worker_class == "gthread":
        cmd += ["--threads", str(WSGI_THREADS)]
    return [*cmd, "--log-level", "warning"]


SERVERS = {
    "granian-rsgi": lambda module, port: _granian("rsgi", module, port),
    "granian-asgi": lambda module, port: _granian("asgi", module, port),
    "granian-wsgi": lambda module, port: _granian("wsgi", module, port),
    "uvicorn": _uvicorn,
    "gunicorn": _gunicorn,
    "gunicorn-sync": lambda module, port: _gunicorn(module, port, "sync"),
}
ASGI_SERVERS = ("uvicorn", "granian-asgi")
WSGI_SERVERS = ("gunicorn", "granian-wsgi")


@dataclass(frozen=True)
class Framework:
    """A framework (or raw baseline) and how it is served and imported."""

    name: str
    label: str
    servers: tuple[str, ...]
    import_statement: str | None
    db: bool = False
    rsgi_attr: bool = False  # served over RSGI through an ``__rsgi__`` attribute
    full_servers: tuple[str, ...] = ()  # servers of the full-stack suite (none: not in it)


FRAMEWORKS: tuple[Framework, ...] = (
    Framework(
        "trivium",
        "trivium",
        ("granian-rsgi", "granian-asgi", "uvicorn"),
        "from trivium import App",
        db=True,
        rsgi_attr=True,
        full_servers=("granian-rsgi", "granian-asgi", "uvicorn"),
    ),
    Framework("raw_rsgi", "raw RSGI", ("granian-rsgi",), None, full_servers=("granian-rsgi",)),
    Framework("raw_asgi", "raw ASGI", ASGI_SERVERS, None),
    Framework(
        "fastapi",
        "FastAPI",
        ASGI_SERVERS,
        "from fastapi import FastAPI",
        db=True,
        full_servers=ASGI_SERVERS,
    ),
    Framework(
        "starlette", "Starlette", ASGI_SERVERS, "from starlette.applications import Starlette"
    ),
    Framework("litestar", "Litestar", ASGI_SERVERS, "from litestar import Litestar"),
    Framework("blacksheep", "BlackSheep", ASGI_SERVERS, "from blacksheep import Application"),
    Framework(
        "flask",
        "Flask",
        WSGI_SERVERS,
        "from flask import Flask",
        db=True,
        full_servers=WSGI_SERVERS,
    ),
    Framework(
        "django",
        "Django",
        WSGI_SERVERS,
        "from django.http import HttpResponse",
        db=True,
        full_servers=("gunicorn", "gunicorn-sync", "granian-wsgi"),
    ),
)
FRAMEWORK_BY_NAME = {framework.name: framework for framework in FRAMEWORKS}


@dataclass(frozen=True)
class Target:
    """One served app: a framework's suite module on one server."""

    framework: Framework
    server: str
    suite: str

    @property
    def name(self) -> str:
        return f"{self.framework.name}@{self.server}"

    @property
    def key(self) -> str:
        return f"{self.name}/{self.suite}"

    @property
    def module(self) -> str:
        return {BASIC: "app", DB: "db", FULL: "full"}[self.suite]

    @property
    def directory(self):
        return APPS_DIR / self.framework.name

    def command(self, port: int) -> list[str]:
        return SERVERS[self.server](self.module, port)


def all_targets() -> list[Target]:
    """Return every target: each framework on each server, basic suite then DB suite."""
    targets = [Target(fw, server, BASIC) for fw in FRAMEWORKS for server in fw.servers]
    targets += [Target(fw, server, DB) for fw in FRAMEWORKS if fw.db for server in fw.servers]
    targets += [Target(fw, server, FULL) for fw in FRAMEWORKS for server in fw.full_servers]
    return targets


def select_targets(app_filters: list[str] | None, suites: set[str]) -> list[Target]:
    """Return targets matching any filter (``fastapi`` or ``fastapi@uvicorn``) in the suites."""
    known = {fw.name for fw in FRAMEWORKS} | {t.name for t in all_targets()}
    unknown = sorted(set(app_filters or []) - known)
    if unknown:
        raise ValueError(f"unknown app(s) {unknown}; choose from {sorted(known)}")
    return [
        target
        for target in all_targets()
        if target.suite in suites
        and (not app_filters or target.framework.name in app_filters or target.name in app_filters)
    ]


def is_peer(target: Target) -> bool:
    """Tell whether a target is a competing framework (not trivium, not a raw baseline)."""
    return target.framework.name != SUBJECT and target.framework.name not in BASELINES


__all__ = [
    "BASIC",
    "DB",
    "FRAMEWORKS",
    "FULL",
    "Framework",
    "Target",
    "all_targets",
    "select_targets",
]
