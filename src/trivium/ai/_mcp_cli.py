"""`trivium mcp list`: the MCP tools of the app and what their definitions cost a model."""

from __future__ import annotations

import json
from typing import Any

import click

from trivium.cli import APP_ENV
from trivium.cli import load_app

__all__ = ["estimate_tokens", "mcp_group"]

_CHARS_PER_TOKEN = 4


def estimate_tokens(definition: Any) -> int:
    """Estimate the tokens a tool definition costs a model (about 4 characters a token).

    The count is of the compact JSON a client sends the model; real tokenizers differ by
    model, so treat it as an order of magnitude to compare tools and budgets with.
    """
    text = json.dumps(definition, separators=(",", ":"), ensure_ascii=False)
    return max(1, -(-len(text) // _CHARS_PER_TOKEN))


@click.group("mcp")
def mcp_group() -> None:
    """The app's MCP server (trivium.ai)."""


@mcp_group.command("list")
@click.option(
    "--app",
    "target",
    envvar=APP_ENV,
    metavar="MODULE:APP",
    help=f"The app, as 'module:app' or 'module:factory()'.  [env: {APP_ENV}]",
)
@click.option("--json", "as_json", is_flag=True, help="Print the tool definitions as JSON.")
def list_tools(target: str | None, as_json: bool) -> None:
    """Print the MCP tools, resources and prompts, with an estimate of their token cost."""
    if not target:
        raise click.UsageError(f"give the app with --app module:app (or set {APP_ENV})")
    from trivium.ai._mcp import MCP

    app = load_app(target)
    plugins = app.plugins_of(MCP)
    if not plugins:
        raise click.UsageError("the app has no MCP plugin: app.install(MCP())")
    plugin = plugins[0]
    tools = plugin.catalogue(app)
    definitions = []
    for entry in tools.values():
        definition: dict[str, Any] = {
            "name": entry.tool.name,
            "description": entry.tool.description,
            "inputSchema": entry.tool.input_schema,
        }
        if entry.tool.output_schema is not None:
            definition["outputSchema"] = entry.tool.output_schema
        definitions.append(definition)
    if as_json:
        click.echo(json.dumps(definitions, indent=2))
        return
    total = 0
    width = max((len(d["name"]) for d in definitions), default=4)
    click.echo(f"{'tool':<{width}}  {'route':<32}  tokens")
    for entry, definition in zip(tools.values(), definitions, strict=True):
        cost = estimate_tokens(definition)
        total += cost
        route = f"{entry.tool.method} {entry.route.path}"
        click.echo(f"{entry.tool.name:<{width}}  {route:<32}  {cost}")
    click.echo(f"{len(definitions)} tool(s), about {total} tokens of definitions")
    for resource in plugin.resources:
        click.echo(f"resource {resource.uri}  (GET {resource.route.path})")
    for prompt in plugin.prompts.values():
        click.echo(f"prompt {prompt.name}({', '.join(prompt.arguments)})")
