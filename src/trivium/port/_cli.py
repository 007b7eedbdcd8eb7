"""`trivium port fastapi PATH...`: point a project's FastAPI/Starlette imports at trivium.compat.

By default the command only shows what it would do (a unified diff on standard output,
the imports it cannot convert on standard error); `--write` rewrites the files and
`--check` exits with status 1 when a file would change, for CI.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from trivium.port._rewrite import PortResult
from trivium.port._rewrite import Problem
from trivium.port._rewrite import port_source

__all__ = ["iter_python_files", "local_packages", "port"]

_SKIP_DIRS = frozenset(
    {"__pycache__", "node_modules", "site-packages", "build", "dist", "venv", "env"}
)


def iter_python_files(paths: tuple[Path, ...]) -> Iterator[Path]:
    """Yield the `.py` files under `paths`, sorted, skipping hidden, virtualenv and build folders."""
    for path in paths:
        if path.is_file():
            yield path
            continue
        for file in sorted(path.rglob("*.py")):
            relative = file.relative_to(path).parts[:-1]
            if any(part.startswith(".") or part in _SKIP_DIRS for part in relative):
                continue
            yield file


def local_packages(paths: tuple[Path, ...]) -> frozenset[str]:
    """Return the top-level module names a project defines (beside PATH and under `src/`)."""
    names: set[str] = set()
    for path in paths:
        root = path if path.is_dir() else path.parent
        for folder in (root, root / "src", root.parent):
            if not folder.is_dir():
                continue
            for child in folder.iterdir():
                if child.suffix == ".py":
                    names.add(child.stem)
                elif (child / "__init__.py").is_file():
                    names.add(child.name)
    return frozenset(names)


def _diff(path: Path, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path.as_posix()}",
        tofile=f"b/{path.as_posix()}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@click.group("port")
def port() -> None:
    """Port an application from another framework to trivium."""


@port.command("fastapi")
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
)
@click.option("--write", is_flag=True, help="Rewrite the files in place.")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit with status 1 when a file would change (for CI).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Also exit with status 1 when an import could not be converted.",
)
@click.option("--diff/--no-diff", "show_diff", default=True, show_default=True)
def fastapi(
    paths: tuple[Path, ...], write: bool, check: bool, strict: bool, show_diff: bool
) -> None:
    """Rewrite FastAPI and Starlette imports under PATHS to trivium.compat.

    Without --write, print the unified diff of what would change and write nothing.
    Imports that cannot be converted (third-party FastAPI plugins, FastAPI's private or
    internal modules, names trivium.compat lacks) are listed on standard error with
    file:line and the reason, and left as they are.
    """
    if write and check:
        raise click.UsageError("--write and --check exclude each other")
    local = local_packages(paths)
    changed: list[Path] = []
    converted = 0
    problems: list[Problem] = []
    for path in iter_python_files(paths):
        try:
            with path.open(encoding="utf-8", newline="") as file:
                before = file.read()
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), 1, "", f"could not read: {exc}"))
            continue
        result: PortResult = port_source(before, str(path), local)
        problems.extend(result.problems)
        if not result.changed:
            continue
        changed.append(path)
        converted += result.converted
        if show_diff:
            click.echo(_diff(path, before, result.source), nl=False)
        if write:
            path.write_text(result.source, encoding="utf-8", newline="")
    _summarise(changed, converted, problems, write=write)
    unparsed = any(problem.reason.startswith("could not ") for problem in problems)
    if (check and changed) or (strict and problems) or unparsed:
        sys.exit(1)


def _summarise(
    changed: list[Path], converted: int, problems: list[Problem], *, write: bool
) -> None:
    files = f"{len(changed)} file{'s' * (len(changed) != 1)}"
    if not changed:
        click.echo("Nothing to convert.", err=True)
    elif write:
        click.echo(f"Rewrote {converted} imports in {files}.", err=True)
    else:
        click.echo(f"{converted} imports in {files} would be rewritten (use --write).", err=True)
    if problems:
        click.echo(f"Left unconverted ({len(problems)}):", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
