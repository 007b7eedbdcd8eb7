"""`trivium routes`, `trivium shell` and `trivium check`: look at an app without serving it.

Each command imports the app named by `--app` (or `TRIVIUM_APP`) and builds it, so the
routes and plugins are exactly those a server would have.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import click

from trivium.cli._loader import APP_ENV
from trivium.cli._loader import load_app

__all__ = ["check", "routes", "shell"]

_APP = click.option(
    "--app",
    "target",
    envvar=APP_ENV,
    required=True,
    metavar="MODULE:APP",
    help=f"The app.  [default: ${APP_ENV}]",
)


def _built(target: str) -> Any:
    from trivium.errors import ConfigurationError

    app = load_app(target)
    try:
        app.build()
    except ConfigurationError as exc:
        raise click.ClickException(exc.one_line()) from None
    return app


def _rows(routes: Any, prefix: str = "") -> Iterator[tuple[str, str, str, str]]:
    for route in routes:
        path = prefix + str(getattr(route, "path", ""))
        endpoint = getattr(route, "endpoint", None)
        handler = (
            f"{endpoint.__module__}.{endpoint.__qualname__}"
            if callable(endpoint) and hasattr(endpoint, "__qualname__")
            else ""
        )
        name = str(getattr(route, "name", None) or "")
        methods = getattr(route, "methods", None)
        inner = getattr(route, "routes", None)
        if methods:
            yield (",".join(sorted(methods)), path, name, handler)
        elif type(route).__name__ == "WebSocketRoute":
            yield ("WS", path, name, handler)
        elif inner:
            yield from _rows(inner, path)
        else:
            mounted = getattr(route, "app", None)
            yield ("MOUNT", path, name, type(mounted).__name__ if mounted is not None else "")


@click.command()
@_APP
def routes(target: str) -> None:
    """List the app's routes: method, path, name and handler."""
    app = _built(target)
    rows = [("METHOD", "PATH", "NAME", "HANDLER"), *_rows(app.routes)]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[3]
        )


@click.command()
@_APP
@click.option("--no-startup", is_flag=True, help="Do not run the app's start-up (lifespan).")
def shell(target: str, no_startup: bool) -> None:
    """Open a Python shell with `await` at the prompt and the app in scope.

    Names: app, settings (the app's Settings, if any), db (its Database, if any) and
    session (an AsyncSession of db: commit yourself). The app's start-up runs first
    (databases connect), unless --no-startup.
    """
    from trivium.cli._repl import run_repl

    app = _built(target)
    run_repl(app, startup=not no_startup)


@click.command(name="check")
@_APP
@click.option("--deploy", is_flag=True, help="Also run the deployment checks.")
@click.option(
    "--fail-level",
    type=click.Choice(["error", "warning"]),
    default="error",
    show_default=True,
    help="The lowest level that makes the command exit with status 1.",
)
def check(target: str, deploy: bool, fail_level: str) -> None:
    """Check the app: its declarations (it builds), and with --deploy its production settings.

    Each finding is one line with a stable id (docs/cli.md#trivium-check).
    """
    import anyio

    from trivium.cli._checks import deployment_checks

    app = _built(target)
    findings = anyio.run(deployment_checks, app) if deploy else []
    for finding in findings:
        click.echo(str(finding))
    failing = [f for f in findings if f.level == "error" or fail_level == "warning"]
    if not findings:
        click.echo("System check identified no issues.")
        return
    click.echo(f"System check identified {len(findings)} issue(s).")
    if failing:
        sys.exit(1)
