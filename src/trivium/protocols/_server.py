"""Start an app on Granian (RSGI or ASGI) or on uvicorn.

Everything is checked before a server starts: the options, the import string, that the
target is an application, which interface it speaks and that the needed packages are
installed. Mistakes become `ConfigurationError`s that say what to change.

An import string is imported once in the launching process to check it, except when the
server will reload or fork several workers: then the check runs in a short-lived child
interpreter, so that the supervising process never holds the app's modules. Granian forks
its workers from that process, and a forked worker that inherited the modules would keep
serving the old code after a reload instead of importing the edited files.

Outside reload, Granian's workers load the app through `_WorkerLoader`, which tells a
worker whether it replaces one that died after the server had served: the first worker
whose start-up succeeds creates a file in a folder of the launch, and a worker started
once that file exists gets `RESPAWNED_ENV` set. Its start-up may then meet an outage
(the database is down) without failing: failing would make Granian see a crash loop and
stop every worker, the healthy ones included. Until that file exists, a worker that
dies is not replaced at all (`_RespawnOnceServed`): a first start that fails (the
database is unreachable, a setting is missing) stops the server after the worker's one
line, instead of failing again in a respawned worker until Granian sees a crash loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import importlib
import importlib.util
import logging
import multiprocessing
import os
import pickle
import shutil
import sys
import tempfile
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import Literal
from typing import TypedDict
from typing import Unpack
from typing import get_args

from trivium.environment import production
from trivium.errors import ConfigurationError
from trivium.errors import MissingDependencyError
from trivium.protocols._logging import LogFormat
from trivium.protocols._logging import logging_config
from trivium.protocols._port import check_port_free
from trivium.protocols._reload import RELOAD_EXCLUDE
from trivium.protocols._reload import RELOAD_INCLUDE
from trivium.protocols._reload import reload_filter
from trivium.protocols._stopping import RELOAD_KILL
from trivium.protocols._stopping import end_streams_on_stop
from trivium.protocols._stopping import kill_timeout
from trivium.protocols._stopping import pass_one_stop_signal
from trivium.protocols._stopping import stop_workers_reliably
from trivium.protocols._target import AppFacts
from trivium.protocols._target import ImportString
from trivium.protocols._target import app_facts
from trivium.protocols._target import describe_object
from trivium.protocols._target import load
from trivium.protocols._target import parse_import_string
from trivium.protocols._target import probe_in_child
from trivium.types import ASGIApp

__all__ = [
    "Interface",
    "LogFormat",
    "LogLevel",
    "ServerConfig",
    "ServerName",
    "ServerOptions",
    "serve",
]

METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
WORKERS_ENV = "TRIVIUM_WORKERS"
RESPAWNED_ENV = "TRIVIUM_WORKER_RESPAWNED"
"""`"1"` in a Granian worker started after one of the server's workers had started (it
replaces one that died): an outage met at start-up is served through, not fatal."""

# Files a development server must not restart for: tool caches, built docs, and the
# SQLite databases (with their journals) that the app itself writes while it runs.
RELOAD_IGNORE_DIRS = (".ruff_cache", ".import_linter_cache", "site", ".results")
RELOAD_IGNORE_PATTERNS = (r".*\.(db|sqlite|sqlite3)(-journal|-wal|-shm)?$",)
RELOAD_IGNORE_GLOBS = ("*.db", "*.db-journal", "*.db-wal", "*.db-shm", "*.sqlite3", ".ruff_cache/*")

Interface = Literal["rsgi", "asgi"]
ServerName = Literal["granian", "uvicorn"]
LogLevel = Literal["critical", "error", "warning", "info", "debug"]

logger = logging.getLogger("trivium.server")


class ServerOptions(TypedDict, total=False):
    """Keyword options of `serve` and `App.run`; each one is a `ServerConfig` field."""

    host: str
    port: int
    interface: Interface | None
    server: ServerName
    workers: int
    reload: bool
    reload_dirs: Sequence[str]
    log_level: LogLevel
    access_log: bool
    respawn_workers: bool
    ssl_certfile: str | None
    ssl_keyfile: str | None
    root_path: str
    reload_include: Sequence[str]
    reload_exclude: Sequence[str]
    shutdown_timeout: float | None
    log_format: LogFormat | None


@dataclasses.dataclass(frozen=True, slots=True)
class ServerConfig:
    """How to serve an app; validated when built, so a bad value fails before start-up."""

    host: str = "127.0.0.1"
    """Address to bind."""
    port: int = 8000
    """TCP port to bind, 1-65535."""
    interface: Interface | None = None
    """`"rsgi"` or `"asgi"`; `None` picks RSGI on Granian and ASGI on uvicorn."""
    server: ServerName = "granian"
    """`"granian"` or `"uvicorn"`."""
    workers: int = 1
    """Number of worker processes; more than one needs an import-string target."""
    reload: bool = False
    """Restart the workers when source files change (development only)."""
    reload_dirs: Sequence[str] = ()
    """Directories watched by `reload`; empty means the working directory. Kept as a tuple."""
    log_level: LogLevel = "info"
    """Server log level."""
    access_log: bool = False
    """Log one line per request."""
    respawn_workers: bool = True
    """Replace a worker that dies (killed, out of memory, crashed) instead of stopping the
    server, once a worker has finished its start-up: on Granian without `reload`, one
    that dies during the first start stops the server (status 1). A worker that dies
    again within 5.5 s of being replaced is a crash loop: the server then exits with
    status 1, for its supervisor (systemd, Kubernetes) to see. uvicorn always replaces
    dead workers, so `False` is refused there."""
    ssl_certfile: str | None = None
    """TLS certificate file (PEM); with `ssl_keyfile`, the server speaks HTTPS."""
    ssl_keyfile: str | None = None
    """TLS private key file (PEM)."""
    root_path: str = ""
    """The path prefix a proxy serves the app under (`/api`), set as every request's
    `root_path` so that generated URLs carry it."""
    reload_include: Sequence[str] = ()
    """File name patterns watched by `reload` besides Python, template and settings files."""
    reload_exclude: Sequence[str] = ()
    """File name or path patterns never watched by `reload`."""
    shutdown_timeout: float | None = 30.0
    """Seconds a stopping server gives in-flight requests to finish before its workers
    are killed (`None`: wait for them)."""
    log_format: LogFormat | None = None
    """`"text"` or `"json"` log lines; `None` picks JSON when `TRIVIUM_ENV=production`."""

    def __post_init__(self) -> None:
        for name in ("reload_dirs", "reload_include", "reload_exclude"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        if self.log_format is not None:
            _check_choice("log_format", self.log_format, get_args(LogFormat))
        _check_tls_and_prefix(self)
        if self.shutdown_timeout is not None and self.shutdown_timeout <= 0:
            raise ConfigurationError(
                f"shutdown_timeout={self.shutdown_timeout!r} is not a number of seconds; "
                "use a positive number.",
                code="server.invalid-option",
            )
        _check_choice("server", self.server, get_args(ServerName))
        if self.interface is not None:
            _check_choice("interface", self.interface, get_args(Interface))
        _check_choice("log_level", self.log_level, get_args(LogLevel))
        if not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ConfigurationError(
                f"port={self.port!r} is not a TCP port; use an integer from 1 to 65535.",
                code="server.invalid-option",
            )
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ConfigurationError(
                f"workers={self.workers!r} is not a worker count; use an integer of 1 or more.",
                code="server.invalid-option",
            )
        if not self.host:
            raise ConfigurationError(
                "host is empty; use an address such as '127.0.0.1' or '0.0.0.0'.",
                code="server.invalid-option",
            )
        if self.server == "uvicorn" and not self.respawn_workers:
            raise ConfigurationError(
                "respawn_workers=False (--no-respawn) is a Granian option; uvicorn always "
                "replaces a dead worker. Drop the option or use server='granian'.",
                code="server.invalid-option",
            )


def _check_tls_and_prefix(config: ServerConfig) -> None:
    if bool(config.ssl_certfile) != bool(config.ssl_keyfile):
        raise ConfigurationError(
            "TLS needs both ssl_certfile (--ssl-certfile) and ssl_keyfile (--ssl-keyfile).",
            code="server.invalid-option",
        )
    for name in ("ssl_certfile", "ssl_keyfile"):
        path = getattr(config, name)
        if path and not Path(path).is_file():
            raise ConfigurationError(
                f"{name}={path!r} is not a file; give the path of the PEM file.",
                code="server.invalid-option",
            )
    if config.root_path and not config.root_path.startswith("/"):
        raise ConfigurationError(
            f"root_path={config.root_path!r} must start with '/', as in '/api'.",
            code="server.invalid-option",
        )


def serve(
    target: str | ASGIApp,
    config: ServerConfig | None = None,
    /,
    **options: Unpack[ServerOptions],
) -> None:
    """Serve `target` until the server is stopped.

    Args:
        target: The app object, or an import string: `"module:attr"`, or
            `"module:factory()"` for a function that returns the app.
        config: Base configuration; keyword `options` override its fields.
        **options: `ServerConfig` fields, e.g. `host`, `port`, `workers`, `reload`.

    Raises:
        ConfigurationError: An option, the target or the interface choice is wrong; raised
            before any server starts.
        MissingDependencyError: The chosen server or the reloader is not installed.
    """
    config = dataclasses.replace(config or ServerConfig(), **options)
    _check_dependencies(config)
    if isinstance(target, str):
        spec = parse_import_string(target)
        needs_clean_supervisor = config.reload or config.workers > 1
        facts = (
            probe_in_child(spec, bytecode=not config.reload)
            if needs_clean_supervisor
            else app_facts(load(spec), target)
        )
        interface = _choose_interface(config, facts, target)
        _launch(config, interface, spec)
    else:
        label = describe_object(target)
        if config.reload or config.workers > 1:
            option = "reload=True" if config.reload else f"workers={config.workers}"
            raise ConfigurationError(
                f"{option} needs the app as an import string such as 'main:app', so that "
                f"each process can import it; pass the string instead of {label}.",
                code="server.needs-import-string",
            )
        interface = _choose_interface(config, app_facts(target, label), label)
        if config.server == "granian":
            _check_forkable(target, label)
        _launch(config, interface, target)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigurationError(
            f"{name}={value!r} is not supported; use one of: {', '.join(choices)}.",
            code=f"server.unknown-{name.replace('_', '-')}",
        )


def _check_dependencies(config: ServerConfig) -> None:
    if config.server == "uvicorn" and importlib.util.find_spec("uvicorn") is None:
        raise MissingDependencyError("uvicorn", "uvicorn")
    if (
        config.server == "granian"
        and config.reload
        and importlib.util.find_spec("watchfiles") is None
    ):
        raise MissingDependencyError("watchfiles", "reload")


def _choose_interface(config: ServerConfig, facts: AppFacts, label: str) -> Interface:
    if config.server == "uvicorn":
        if config.interface == "rsgi":
            raise ConfigurationError(
                "uvicorn serves ASGI only; drop interface='rsgi' (--interface rsgi) or use "
                "server='granian' (--server granian).",
                code="server.unsupported-interface",
            )
        interface: Interface = "asgi"
    elif config.root_path and facts.asgi and config.interface != "rsgi":
        # Granian passes the prefix to ASGI apps only (RSGI has no root_path).
        interface = "asgi"
    elif config.root_path:
        raise ConfigurationError(
            "root_path (--root-path) needs the ASGI interface: RSGI has no root path. "
            "Drop interface='rsgi' (--interface rsgi).",
            code="server.unsupported-interface",
        )
    elif config.interface == "asgi" or facts.rsgi:
        interface = config.interface or "rsgi"
    else:
        logger.warning("%s has no __rsgi__ entry point; serving it over ASGI instead.", label)
        interface = "asgi"
    if interface == "asgi" and not facts.asgi:
        raise ConfigurationError(
            f"{label} is not an ASGI callable; serve it with interface='rsgi' on Granian.",
            code="server.unsupported-interface",
        )
    return interface


def _check_forkable(app: object, label: str) -> None:
    from granian import Granian
    from granian.server import MPServer

    if Granian is not MPServer or multiprocessing.get_start_method() == "fork":
        return
    try:
        pickle.dumps(app)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise ConfigurationError(
            f"Granian starts workers with {multiprocessing.get_start_method()!r} here, which "
            f"cannot copy {label} ({exc}); pass an import string such as 'main:app'.",
            code="server.needs-import-string",
        ) from exc


def _identity(app: ASGIApp) -> ASGIApp:
    return app


def _nothing(loop: Any) -> None:
    del loop


def _mark_served(served: Path) -> None:
    with contextlib.suppress(OSError):  # the launch is over: nothing left to tell
        served.touch()


@dataclasses.dataclass(frozen=True, slots=True)
class _WorkerLoader:
    """Load the app in a Granian worker, telling it whether the server had served before.

    Called in the worker process. `served` is created once a worker's start-up
    succeeded: a worker loaded after that replaces one that died, and gets
    `RESPAWNED_ENV` (see the module docstring).
    """

    target: ImportString | ASGIApp
    interface: Interface
    served: Path

    def __call__(self) -> Any:
        pass_one_stop_signal()  # a spawned worker (a forked one has it already)
        if self.served.exists():
            os.environ[RESPAWNED_ENV] = "1"
        else:
            os.environ.pop(RESPAWNED_ENV, None)
        if isinstance(self.target, ImportString):
            if "" not in sys.path:  # as Granian's own loader: the working directory first
                sys.path.insert(0, "")
            app: Any = load(self.target)
        else:
            app = self.target
        if self.interface == "rsgi":
            return _RSGIStarted(app, self.served)
        return _ASGIStarted(app, self.served)


class _RSGIStarted:
    """An RSGI app as Granian sees it: its own callbacks, and `served` marked once started.

    Granian reads `__rsgi__` once, so requests go straight to the app's own method.
    """

    __slots__ = ("__rsgi__", "__rsgi_del__", "_init", "_served")

    def __init__(self, app: Any, served: Path) -> None:
        self.__rsgi__ = app.__rsgi__
        self.__rsgi_del__ = getattr(app, "__rsgi_del__", _nothing)
        self._init = getattr(app, "__rsgi_init__", _nothing)
        self._served = served

    def __rsgi_init__(self, loop: Any) -> None:
        self._init(loop)  # the app's start-up: raises (and ends the worker) if it fails
        end_streams_on_stop(loop)
        _mark_served(self._served)


class _ASGIStarted:
    """An ASGI app that marks `served` when its lifespan start-up completes."""

    __slots__ = ("_app", "_served")

    def __init__(self, app: ASGIApp, served: Path) -> None:
        self._app = app
        self._served = served

    def __call__(self, scope: Any, receive: Any, send: Any) -> Awaitable[None]:
        # Not a coroutine itself: requests cost one call, not one more frame per await.
        if scope["type"] != "lifespan":
            return self._app(scope, receive, send)
        return self._app(scope, receive, self._watching(send))

    def _watching(self, send: Callable[[Any], Awaitable[None]]) -> Any:
        async def watched(message: Any) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                end_streams_on_stop(asyncio.get_running_loop())
                _mark_served(self._served)

        return watched


@dataclasses.dataclass(frozen=True, slots=True)
class _RespawnOnceServed:
    """Granian's `respawn_failed_workers`: true once a worker of this launch has started.

    Granian tests it when a worker dies, so a worker that fails the server's first start
    is not replaced: the server stops (status 1) instead.
    """

    served: Path

    def __bool__(self) -> bool:
        return self.served.exists()


def _launch(config: ServerConfig, interface: Interface, target: ImportString | ASGIApp) -> None:
    check_port_free(config.host, config.port)
    # The workers inherit it: what they read to know they are one of several.
    os.environ[WORKERS_ENV] = str(config.workers)
    metrics = None
    if config.workers > 1 and not os.environ.get(METRICS_DIR_ENV):
        # Before a worker imports prometheus-client: its values then live in files the
        # workers share, so /metrics adds up every worker (trivium.observability). With
        # several workers the launching process never imported the app (see the probe).
        # The folder is this launch's: removed when the server stops.
        metrics = tempfile.mkdtemp(prefix="trivium-metrics-")
        os.environ[METRICS_DIR_ENV] = metrics
    try:
        _launch_server(config, interface, target)
    finally:
        if metrics is not None:
            os.environ.pop(METRICS_DIR_ENV, None)
            shutil.rmtree(metrics, ignore_errors=True)


def _launch_server(
    config: ServerConfig, interface: Interface, target: ImportString | ASGIApp
) -> None:
    if config.server == "uvicorn":
        _run_uvicorn(config, target)
        return
    if config.reload:
        # No .pyc of the project while reloading (nor in the probe): one is trusted when
        # the source's size and mtime (whole seconds) match, so an edit of the same length
        # within a second of the last would reload the old code.
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        sys.dont_write_bytecode = True
    # A folder of this launch: where workers tell each other the server has served.
    launch = None if config.reload else Path(tempfile.mkdtemp(prefix="trivium-run-"))
    try:
        _run_granian(config, interface, target, launch)
    finally:
        if launch is not None:
            shutil.rmtree(launch, ignore_errors=True)


def _run_granian(
    config: ServerConfig,
    interface: Interface,
    target: ImportString | ASGIApp,
    launch: Path | None,
) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    loader: Callable[[], Any] | None
    if isinstance(target, ImportString):
        name, factory, loader = f"{target.module}:{target.attribute}", target.factory, None
    else:
        name, factory = describe_object(target), False
        loader = functools.partial(_identity, target)
    respawn: bool | _RespawnOnceServed = config.respawn_workers
    if launch is not None:
        loader = _WorkerLoader(target, interface, launch / "served")
        respawn = _RespawnOnceServed(launch / "served") if respawn else False
    server = Granian(
        name,
        address=config.host,
        port=config.port,
        interface=Interfaces.RSGI if interface == "rsgi" else Interfaces.ASGI,
        workers=config.workers,
        reload=config.reload,
        reload_paths=[Path(path) for path in config.reload_dirs] or None,
        reload_ignore_dirs=list(RELOAD_IGNORE_DIRS),
        reload_ignore_patterns=list(RELOAD_IGNORE_PATTERNS),
        reload_filter=(
            reload_filter(config.reload_include, config.reload_exclude) if config.reload else None
        ),
        # A worker that dies on an edit (a syntax error) is started again by the next
        # edit, instead of ending the development server.
        reload_ignore_worker_failure=config.reload,
        log_level=LogLevels(config.log_level),
        log_dictconfig=_logging_config(config),
        log_access=config.access_log,
        factory=factory,
        # Any object: Granian tests its truth each time a worker dies.
        respawn_failed_workers=respawn,  # type: ignore[arg-type]
        ssl_cert=Path(config.ssl_certfile) if config.ssl_certfile else None,
        ssl_key=Path(config.ssl_keyfile) if config.ssl_keyfile else None,
        url_path_prefix=config.root_path or None,
        workers_kill_timeout=kill_timeout(
            # A worker asked to stop while it still starts ignores it (Granian): with
            # reload, a second save during a start would keep the old code for 30 s.
            min(config.shutdown_timeout or RELOAD_KILL, RELOAD_KILL)
            if config.reload
            else config.shutdown_timeout
        ),
    )
    stop_workers_reliably(server)
    if loader is None:
        server.serve()
    else:
        server.serve(target_loader=loader, wrap_loader=False)


def _run_uvicorn(config: ServerConfig, target: ImportString | ASGIApp) -> None:
    import uvicorn

    if isinstance(target, ImportString):
        app: str | ASGIApp = f"{target.module}:{target.attribute}"
        factory = target.factory
    else:
        app, factory = target, False
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        workers=config.workers,
        reload=config.reload,
        reload_dirs=list(config.reload_dirs) or None,
        reload_includes=[*RELOAD_INCLUDE, *config.reload_include] if config.reload else None,
        reload_excludes=(
            [*RELOAD_IGNORE_GLOBS, *RELOAD_EXCLUDE, *config.reload_exclude]
            if config.reload
            else None
        ),
        log_level=config.log_level,
        log_config=_logging_config(config),
        access_log=config.access_log,
        factory=factory,
        interface="asgi3",
        # Forwarded headers are believed through trivium's ProxyHeadersMiddleware only, as
        # on Granian; uvicorn's own (on by default, for 127.0.0.1) would rewrite the client
        # and scheme before that middleware can check the peer.
        proxy_headers=False,
        ssl_certfile=config.ssl_certfile,
        ssl_keyfile=config.ssl_keyfile,
        root_path=config.root_path,
        timeout_graceful_shutdown=(
            None if config.shutdown_timeout is None else int(config.shutdown_timeout)
        ),
    )


def _logging_config(config: ServerConfig) -> dict[str, Any]:
    """Return the server's logging set-up, with Alembic's INFO lines left to `debug`.

    Alembic logs each plugin it sets up and each migration context it opens (the
    migrations check at start-up, `/readyz`) at INFO: ten lines of noise per start.
    """
    settings = logging_config(_log_format(config), config.log_level)
    if config.log_level != "debug":
        level = "WARNING" if config.log_level == "info" else config.log_level.upper()
        settings["loggers"]["alembic"] = {"level": level}
    return settings


def _log_format(config: ServerConfig) -> LogFormat:
    if config.log_format is not None:
        return config.log_format
    return "json" if production() else "text"
