"""A click command that the lazy-group tests load by import path."""

from __future__ import annotations

import click


@click.command()
def greet() -> None:
    """Say hello."""
    click.echo("hello from a lazy command")


not_a_command = 42
