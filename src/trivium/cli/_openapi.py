"""`trivium openapi module:app`: write an app's OpenAPI document as JSON or YAML.

Registered lazily in `BATTERY_COMMANDS`, so `trivium --help` never imports it; the app
module and the OpenAPI battery load only when the command runs.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from trivium.errors import ConfigurationError

__all__ = ["openapi"]


def _load_app(target: str) -> Any:
    """Import `module:attribute` (or `module:factory()`) and return the app it names."""
    module_name, _, attribute = target.strip().partition(":")
    factory = attribute.endswith("()")
    attribute = attribute.removesuffix("()")
    parts = [*module_name.split("."), *attribute.split(".")]
    if not attribute or not all(part.isidentifier() for part in parts):
        raise click.BadParameter(
            f"{target!r} is not an import string; write 'module:app' (or 'module:factory()')",
            param_hint="TARGET",
        )
    try:
        found: Any = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any failure of the user's module is reported
        raise click.ClickException(
            f"importing {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from None
    for name in attribute.split("."):
        if not hasattr(found, name):
            raise click.ClickException(f"module {module_name!r} has no attribute {attribute!r}")
        found = getattr(found, name)
    if factory:
        found = found()
    if not callable(getattr(found, "openapi", None)):
        raise click.ClickException(
            f"{target!r} is {type(found).__name__}, not a trivium App (it has no openapi())"
        )
    return found


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
@click.argument("target")
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
def openapi(target: str, output: Path | None, fmt: str | None) -> None:
    """Write the OpenAPI document of an app.

    TARGET is an import string: 'main:app', or 'main:create_app()' for a function that
    returns the app.
    """
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if fmt is None:
        fmt = "yaml" if output is not None and output.suffix in (".yaml", ".yml") else "json"
    app = _load_app(target)
    try:
        document = app.openapi()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    text = _render(document, fmt.lower())
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}", err=True)
