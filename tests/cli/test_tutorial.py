"""docs/tutorial.md, followed step by step on a project made by `trivium new`.

The files the page shows (code blocks with a `title`) are written into the project, the
page's commands are run with this interpreter (`make ... PYTHON=...`), and the tests the
page adds must pass.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from trivium.cli import main

PAGE = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"


def _blocks() -> dict[str, str]:
    """The page's titled code blocks, by title."""
    pattern = re.compile(r'```python title="([^"]+)"\n(.*?)```', re.DOTALL)
    return dict(pattern.findall(PAGE.read_text()))


def _make(project: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIVIUM_")}
    if "TRIVIUM_TEST_INTERFACE" in os.environ:  # the RSGI pass drives these apps over RSGI too
        env["TRIVIUM_TEST_INTERFACE"] = os.environ["TRIVIUM_TEST_INTERFACE"]
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # faster: the tests need only anyio's plugin
    env["PYTEST_ADDOPTS"] = "-p anyio"
    done = subprocess.run(
        ["make", *args, f"PYTHON={sys.executable}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_tutorial_works_as_written(tmp_path: Path) -> None:
    blocks = _blocks()
    page = PAGE.read_text()
    # Step 1: create the project.
    assert "$ trivium new blog" in page
    result = CliRunner().invoke(main, ["new", "blog", "--directory", str(tmp_path / "blog")])
    assert result.exit_code == 0, result.output
    project = tmp_path / "blog"
    # Step 2: the model module, and its two lines in create_app.
    (project / "blog" / "comments.py").write_text(blocks["blog/comments.py"])
    lines = blocks["blog/app.py (two lines added)"].splitlines()
    import_line, include_line = lines[0], lines[-1]
    app_py = project / "blog" / "app.py"
    text = app_py.read_text()
    text = text.replace(
        "from blog.api import api_router\n", f"from blog.api import api_router\n{import_line}\n"
    )
    text = text.replace(
        "    app.include_router(api_router(db))\n",
        f"    app.include_router(api_router(db))\n{include_line}\n",
    )
    assert import_line in text
    assert include_line in text
    app_py.write_text(text)
    # Step 3: migrate, make the migration, migrate again.
    for command in re.findall(
        r"^\$ (make [^\n#]+?)\s*(?:#.*)?$", page.split("## 3.")[1].split("## 4.")[0], re.M
    ):
        _make(project, *_split(command.removeprefix("make ")))
    migrations = sorted((project / "blog" / "migrations").glob("*.py"))
    assert any("add_comments" in path.name for path in migrations), migrations
    assert "blog_comment" in next(p for p in migrations if "add_comments" in p.name).read_text()
    # Step 4: the page's tests, with the project's own.
    (project / "tests" / "test_comments.py").write_text(blocks["tests/test_comments.py"])
    assert "19 passed" in _make(project, "test")  # the project's 16 and the page's 3


def _split(arguments: str) -> list[str]:
    return shlex.split(arguments)
