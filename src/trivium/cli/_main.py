"""The `trivium` command: a click group whose battery subcommands load lazily.

`trivium --help` must stay fast and import no battery, so a battery's commands are listed
in `BATTERY_COMMANDS` by import path with a one-line help text, and the group imports the
module only when the command is run (or its own `--help` is asked for).

To add `trivium db`: write a click command or group `db` in `trivium/db/_cli.py` and add
`"db": LazyCommand("trivium.db._cli:db", "Manage the database and its migrations.")` to
`BATTERY_COMMANDS` below.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.metadata
import logging
import sys
from collections.abc import Iterator
from collections.abc import Sequence
from pathlib import Path
from typing import Unpack
from typing import get_args

import click

from trivium.errors import ConfigurationError
from trivium.errors import MissingDependencyError
from trivium.protocols import Interface
from trivium.protocols import LogFormat
from trivium.protocols import LogLevel
from trivium.protocols import ServerConfig
from trivium.protocols import ServerName
from trivium.protocols import ServerOptions
from trivium.protocols import serve

__all__ = ["BATTERY_COMMANDS", "LazyCommand", "LazyGroup", "main", "run"]


@dataclasses.dataclass(frozen=True, slots=True)
class LazyCommand:
    """A subcommand known by where it lives, imported only when it is used."""

    import_path: str
    """`"package.module:attribute"` of a `click.Command` (or `click.Group`)."""
    short_help: str
    """One line shown by the group's `--help` without importing the command."""


BATTERY_COMMANDS: dict[str, LazyCommand] = {}
"""Subcommands contributed by batteries, by command name; read when `main` is built."""
BATTERY_COMMANDS["openapi"] = LazyCommand("trivium.cli._openapi:openapi", "Write the OpenAPI spec.")
BATTERY_COMMANDS["db"] = LazyCommand(
    "trivium.db._cli:db", "Manage the database and its migrations."
)
BATTERY_COMMANDS["routes"] = LazyCommand(
    "trivium.cli._ops:routes", "List the app's routes: method, path, name, handler."
)
BATTERY_COMMANDS["shell"] = LazyCommand(
    "trivium.cli._ops:shell", "Open an async Python shell with the app, settings and a DB session."
)
BATTERY_COMMANDS["check"] = LazyCommand(
    "trivium.cli._ops:check", "Check the app; --deploy adds the production checks."
)
BATTERY_COMMANDS["port"] = LazyCommand(
    "trivium.port._cli:port", "Port an app from FastAPI: rewrite its imports to trivium.compat."
)
BATTERY_COMMANDS["createsuperuser"] = LazyCommand(
    "trivium.auth._cli:createsuperuser", "Create a user with every permission."
)
BATTERY_COMMANDS["settings"] = LazyCommand(
    "trivium.conf._cli:settings", "Print every setting and where it came from."
)
BATTERY_COMMANDS["new"] = LazyCommand("trivium.cli._new:new", "Create a new project.")
BATTERY_COMMANDS["changepassword"] = LazyCommand(
    "trivium.auth._cli:changepassword", "Set a user's password."
)

_ONE_SHOT = frozenset(
    {"check", "changepassword", "createsuperuser", "db", "openapi", "routes", "settings"}
)
"""Commands that do one thing and report a failure themselves, in one line."""


class LazyGroup(click.Group):
    """A click group that also holds lazy commands and imports each one on first use."""

    def __init__(
        self,
        name: str | None = None,
        commands: Sequence[click.Command] | None = None,
        **attrs: object,
    ) -> None:
        super().__init__(name, commands, **attrs)  # type: ignore[arg-type]
        self.lazy_commands: dict[str, LazyCommand] = {}
        """Commands not imported yet, by name."""

    def add_lazy_command(self, name: str, import_path: str, short_help: str) -> None:
        """Register the command at `import_path` ("module:attribute") as `name`."""
        self.lazy_commands[name] = LazyCommand(import_path, short_help)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the names of eager and lazy commands, sorted."""
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the command `cmd_name`, importing it if it is lazy."""
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy_commands:
            command = self._import(cmd_name, self.lazy_commands[cmd_name])
            self.add_command(command, cmd_name)
        if command is None:
            command = _plugin_command(cmd_name)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Find the command; an unknown name says where plugins' commands come from."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            import os

            from trivium.cli._loader import APP_ENV

            if ctx.parent is not None or not args or os.environ.get(APP_ENV):
                raise
            # `trivium tasks list` run without the app: its plugin's commands are unknown.
            ctx.fail(
                f"No such command {args[0]!r}. The commands of an app's plugins "
                f"(trivium tasks, trivium audit, ...) need the app: set {APP_ENV}=module:app"
            )

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a `ConfigurationError` it raises becomes a one-line error."""
        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            raise click.ClickException(exc.one_line()) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their short help, without importing lazy ones."""
        limit = (
            formatter.width - 6 - max((len(name) for name in self.list_commands(ctx)), default=0)
        )
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is not None:
                if not command.hidden:
                    rows.append((name, command.get_short_help_str(limit)))
            else:
                rows.append((name, self.lazy_commands[name].short_help))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
        if ctx.parent is None:
            _format_plugin_commands(formatter, limit)

    @staticmethod
    def _import(name: str, lazy: LazyCommand) -> click.Command:
        """Import the command `lazy` names; a missing optional dependency is a one-line error."""
        module_name, _, attribute = lazy.import_path.partition(":")
        try:
            module = importlib.import_module(module_name)
        except MissingDependencyError as exc:
            raise click.ClickException(f"'{name}' is not available: {exc}") from None
        command = getattr(module, attribute)
        if not isinstance(command, click.Command):
            msg = f"{lazy.import_path} is {type(command).__name__}, not a click command"
            raise TypeError(msg)
        return command


def _plugin_commands() -> list[click.Command]:
    """Return the commands the plugins of the app in `TRIVIUM_APP` add (none without it)."""
    import os

    from trivium.cli._loader import APP_ENV
    from trivium.cli._loader import load_app

    target = os.environ.get(APP_ENV)
    if not target:
        return []
    app = load_app(target)
    build = getattr(app, "build", None)
    if callable(build):  # plugins installed by another plugin's `on_build` included
        build()
    builtin = {*main.commands, *main.lazy_commands}
    found: dict[str, click.Command] = {}
    for plugin in getattr(app, "plugins", ()):
        for command in plugin.cli_commands():
            if not isinstance(command, click.Command):
                continue
            name = command.name or ""
            if name in builtin or name in found:
                clash = "trivium's own command" if name in builtin else "another plugin's"
                raise ConfigurationError(
                    f"{type(plugin).__name__}.cli_commands() adds {name!r}, the name of "
                    f"{clash}; give the plugin's command another name (or a group: "
                    f"'trivium {type(plugin).__name__.lower()} {name}')",
                    "plugin-cli-clash",
                )
            found[name] = command
    return list(found.values())


def _format_plugin_commands(formatter: click.HelpFormatter, limit: int) -> None:
    """List, in `trivium --help`, the commands of the plugins of the app in `TRIVIUM_APP`."""
    import os

    from trivium.cli._loader import APP_ENV

    target = os.environ.get(APP_ENV)
    if not target:
        return
    try:
        commands = _plugin_commands()
    except Exception as exc:  # noqa: BLE001 - the help must show whatever the app does
        note = (
            exc.one_line()
            if isinstance(exc, ConfigurationError)
            else f"{type(exc).__name__}: {exc}"
        )
        with formatter.section(f"Commands of {target}'s plugins"):
            formatter.write_text(f"(could not load the app: {note})")
        return
    rows = [(c.name or "", c.get_short_help_str(limit)) for c in commands if not c.hidden]
    if rows:
        with formatter.section(f"Commands of {target}'s plugins"):
            formatter.write_dl(sorted(rows))


def _plugin_command(name: str) -> click.Command | None:
    """Return the command `name` contributed by a plugin of the app in `TRIVIUM_APP`.

    Only looked at for names trivium itself does not know, so `trivium --help` and the
    built-in commands never import the app.
    """
    for command in _plugin_commands():
        if command.name == name:
            return command
    return None


class _ConfigurationFailed(click.ClickException):
    """A `ConfigurationError` shown as a one-line error with exit status 2."""

    exit_code = 2


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    try:
        version = importlib.metadata.version("trivium")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown (not installed)"
    click.echo(f"trivium {version}")
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Trivium's command line: serve an app, and the commands of its batteries.

    Import strings are resolved from the current directory, which is put first on
    sys.path.
    """
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if ctx.invoked_subcommand in _ONE_SHOT:
        ctx.with_resource(_quiet_outage_log())


@contextlib.contextmanager
def _quiet_outage_log() -> Iterator[None]:
    """Silence `trivium.db`'s outage log while a one-shot command runs.

    A server logs "database 'default' unavailable, answering 503/504 until it recovers"
    when its database goes away; a command that cannot reach the database says so
    itself, in one line, and that log line would come first.
    """
    logger = logging.getLogger("trivium.db")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


for _name, _lazy in BATTERY_COMMANDS.items():
    main.add_lazy_command(_name, _lazy.import_path, _lazy.short_help)

_DEFAULTS = ServerConfig()


@main.command(context_settings={"show_default": True})
@click.argument("target", envvar="TRIVIUM_APP")
@click.option("--host", default=_DEFAULTS.host, envvar=["TRIVIUM_HOST"], help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=_DEFAULTS.port,
    envvar=["TRIVIUM_PORT", "PORT"],
    help="TCP port.  [env: TRIVIUM_PORT, PORT]",
)
@click.option(
    "--interface",
    type=click.Choice(get_args(Interface), case_sensitive=False),
    default=None,
    envvar="TRIVIUM_INTERFACE",
    show_default=False,
    help="Application interface.  [default: rsgi on granian, asgi on uvicorn]",
)
@click.option(
    "--server",
    type=click.Choice(get_args(ServerName), case_sensitive=False),
    default=_DEFAULTS.server,
    envvar="TRIVIUM_SERVER",
    help="Server to run.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=_DEFAULTS.workers,
    envvar=["TRIVIUM_WORKERS", "WEB_CONCURRENCY"],
    help="Worker processes.  [env: TRIVIUM_WORKERS, WEB_CONCURRENCY]",
)
@click.option(
    "--reload",
    is_flag=True,
    envvar="TRIVIUM_RELOAD",
    help="Restart when source files change (development).",
)
@click.option(
    "--reload-dir",
    "reload_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    show_default=False,
    help="Directory to watch with --reload (repeatable).  [default: current directory]",
)
@click.option(
    "--reload-include",
    multiple=True,
    metavar="GLOB",
    show_default=False,
    help="Also restart for files matching GLOB (repeatable); *.py, templates, *.toml and .env* are watched.",
)
@click.option(
    "--reload-exclude",
    multiple=True,
    metavar="GLOB",
    show_default=False,
    help="Never restart for files matching GLOB (repeatable).",
)
@click.option(
    "--log-level",
    type=click.Choice(get_args(LogLevel), case_sensitive=False),
    default=_DEFAULTS.log_level,
    envvar="TRIVIUM_LOG_LEVEL",
    help="Log level.",
)
@click.option(
    "--log-format",
    type=click.Choice(get_args(LogFormat), case_sensitive=False),
    default=None,
    envvar="TRIVIUM_LOG_FORMAT",
    show_default=False,
    help="Log lines as text or JSON.  [default: json when TRIVIUM_ENV=production, else text]",
)
@click.option(
    "--access-log/--no-access-log",
    default=_DEFAULTS.access_log,
    envvar="TRIVIUM_ACCESS_LOG",
    help="Log one line per request.",
)
@click.option(
    "--respawn/--no-respawn",
    "respawn_workers",
    default=_DEFAULTS.respawn_workers,
    help="Replace a worker that dies after the first start; a worker dying again within "
    "5.5 s stops the server.",
)
@click.option(
    "--ssl-certfile",
    type=click.Path(exists=True, dir_okay=False),
    envvar="TRIVIUM_SSL_CERTFILE",
    help="TLS certificate (PEM); serve HTTPS with --ssl-keyfile.",
)
@click.option(
    "--ssl-keyfile",
    type=click.Path(exists=True, dir_okay=False),
    envvar="TRIVIUM_SSL_KEYFILE",
    help="TLS private key (PEM).",
)
@click.option(
    "--root-path",
    default="",
    envvar="TRIVIUM_ROOT_PATH",
    show_default=False,
    help="Path prefix a proxy serves the app under (e.g. /api).",
)
@click.option(
    "--shutdown-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=_DEFAULTS.shutdown_timeout,
    envvar="TRIVIUM_SHUTDOWN_TIMEOUT",
    help="Seconds in-flight requests get to finish when the server stops.",
)
def run(target: str, **options: Unpack[ServerOptions]) -> None:
    """Serve an app with Granian or uvicorn.

    TARGET is an import string: 'main:app', or 'main:create_app()' for a function that
    returns the app.
    """
    try:
        serve(target, **options)
    except ConfigurationError as exc:
        raise _ConfigurationFailed(str(exc)) from None
    except MissingDependencyError as exc:
        raise click.ClickException(str(exc)) from None
