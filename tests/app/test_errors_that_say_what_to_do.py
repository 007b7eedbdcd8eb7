"""One-line errors that say what to do: one test per message (docs/errors.md)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import jinja2
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests import live

from trivium import App
from trivium import Path as PathParam
from trivium.errors import ConfigurationError
from trivium.protocols import serve
from trivium.testing import TestClient


def test_unsupported_parameter_type_names_the_parameter_and_the_fix() -> None:
    app = App()

    @app.get("/posts")
    async def posts(session: AsyncSession) -> list[str]:
        return []

    with pytest.raises(ConfigurationError) as caught:
        app.build()
    assert caught.value.code == "param-unsupported-type"
    message = str(caught.value)
    assert "\n" not in message
    assert "session: AsyncSession" in message
    assert "Annotated[AsyncSession, db.depends()]" in message
    assert "arbitrary_types_allowed" not in message


def test_misnamed_path_parameter_is_refused_with_the_fix() -> None:
    app = App()

    @app.get("/items/{item_id}")
    async def item(id: int) -> dict[str, int]:
        return {"id": id}

    with pytest.raises(ConfigurationError, match=r"rename 'id' to 'item_id'") as caught:
        app.build()
    assert caught.value.code == "path-param-unused"


def test_path_parameter_alias_and_optional_queries_pass() -> None:
    app = App()

    @app.get("/items/{item_id}")
    async def item(id: Annotated[int, PathParam(alias="item_id")]) -> dict[str, int]:
        return {"id": id}

    @app.get("/users/{user_id}/feed")
    async def feed(page: int = 1) -> dict[str, int]:  # the prefix's parameter left unused
        return {"page": page}

    with TestClient(app) as client:
        assert client.get("/items/3").json() == {"id": 3}
        assert client.get("/users/9/feed?page=2").json() == {"page": 2}


def test_fastapi_compat_keeps_reading_a_misnamed_parameter_from_the_query() -> None:
    from trivium.compat.fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(id: int) -> dict[str, int]:
        return {"id": id}

    with TestClient(app) as client:
        assert client.get("/items/3?id=5").json() == {"id": 5}
        assert client.get("/items/3").status_code == 422


def test_importing_fastapi_from_trivium_points_to_compat() -> None:
    with pytest.raises(ImportError, match=r"trivium\.compat\.fastapi import FastAPI.*App"):
        from trivium import FastAPI  # noqa: F401


def test_trivium_db_without_the_extra_names_it() -> None:
    code = "import sys; sys.modules['sqlalchemy'] = None; import trivium.db"
    done = subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        "trivium.errors.MissingDependencyError: 'sqlalchemy' is not installed; install it "
        "with: pip install 'trivium[db]'"
    )


def test_misspelt_database_scheme_lists_the_supported_ones() -> None:
    from trivium.db import Database

    with pytest.raises(ConfigurationError, match=r"'postgress://' is not supported.*postgresql://"):
        Database("postgress://app@localhost/app")


def test_missing_template_lists_the_folders_searched(tmp_path: Path) -> None:
    from trivium.templating import Templates

    (tmp_path / "templates").mkdir()
    templates = Templates(tmp_path / "templates")
    with pytest.raises(jinja2.TemplateNotFound) as caught:
        templates.get_template("post.html")
    message = str(caught.value)
    assert message.startswith("template 'post.html' not found; searched: ")
    assert str((tmp_path / "templates").resolve()) in message


def test_serve_builds_the_app_before_binding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "unbuildable_app.py").write_text(
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "from trivium import App\n"
        "app = App()\n"
        "@app.get('/')\n"
        "async def index(session: AsyncSession) -> None: ...\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError, match="param-unsupported-type"):
        serve("unbuildable_app:app", port=live.free_port())


def test_busy_port_names_the_process_holding_it() -> None:
    app = App()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ConfigurationError) as caught:
            serve(app, port=port)
    assert caught.value.code == "server.port-in-use"
    if Path("/proc/net/tcp").exists():
        name = Path("/proc/self/comm").read_text().strip()
        assert f"in use by process {__import__('os').getpid()} ({name})" in str(caught.value)
