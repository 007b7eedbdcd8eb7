"""`trivium openapi --app module:app`: write an app's OpenAPI document as JSON or YAML.

Registered lazily in `BATTERY_COMMANDS`, so `trivium --help` never imports it; the app
module and the OpenAPI battery load only when the command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from trivium.cli._loader import APP_ENV
from trivium.cli._loader import load_app
from trivium.errors import ConfigurationError

__all__ = ["openapi"]


def _render(document: dict[str, Any], fmt: str) -> str:
    if fmt == "yaml":
        try:
            import yaml  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise click.ClickException(
                "--format yaml needs the PyYAML package; install it with: pip install pyyaml"
            ) from None
        text: str = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        return text
    import json

    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


@click.command("openapi")
@click.argument("target", required=False)
@click.option(
    "--app",
    "app_target",
    envvar=APP_ENV,
    metavar="MODULE:APP",
    help=f"The app (or give it as TARGET).  [default: ${APP_ENV}]",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the document to this file instead of standard output.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "yaml"], case_sensitive=False),
    default=None,
    help="Output format.  [default: yaml for a .yaml/.yml output file, else json]",
)
@click.pass_context
def openapi(
    ctx: click.Context,
    target: str | None,
    app_target: str | None,
    output: Path | None,
    fmt: str | None,
) -> None:
    """Write the OpenAPI document of an app.

    The app is an import string, 'main:app' or 'main:create_app()' for a function that
    returns it, given with --app (default: $TRIVIUM_APP) or as TARGET.
    """
    explicit = ctx.get_parameter_source("app_target") is ParameterSource.COMMANDLINE
    if target and app_target and explicit:
        raise click.UsageError("name the app once: with --app or as TARGET, not both")
    target = target or app_target
    if not target:
        raise click.UsageError(f"name the app with --app module:app (or set {APP_ENV})")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if fmt is None:
        fmt = "yaml" if output is not None and output.suffix in (".yaml", ".yml") else "json"
    app = load_app(target)
    try:
        document = app.openapi()
    except ConfigurationError as exc:
        raise click.ClickException(exc.one_line()) from None
    text = _render(document, fmt.lower())
    if output is None:
        click.echo(text, nl=False)
    else:
        try:  # a missing folder is made, as for other generated files (`build/openapi.json`)
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            why = exc.strerror or str(exc)
            if isinstance(exc, FileExistsError | NotADirectoryError):
                why = "a file is in the way of its folder"
            raise click.ClickException(
                f"cannot write {output}: {why}; choose another --output file"
            ) from None
        click.echo(f"Wrote {output}", err=True)
