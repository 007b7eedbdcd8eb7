"""Plugins installed by another plugin's `on_build` are seen by every battery.

`on_build` installs what a plugin stands on (`Auth` installs `Sessions` and `CSRF`), so
the set of plugins is final only once every `on_build` ran: a battery that reads the
others (`CSRF` looking for `Sessions`, `Templates` collecting template folders, the CLI
looking for commands) does so in `after_build`, and the installation order stops
mattering. A route added to the app after its start is compiled and served.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from trivium import App
from trivium import Request
from trivium import Router
from trivium.auth import Auth
from trivium.cli import main
from trivium.csrf import CSRF
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.http import Response
from trivium.http import WebSocket
from trivium.plugins import Plugin
from trivium.stores import MemoryStore
from trivium.templating import Templates
from trivium.testing import TestClient

SECRET = "build-order-tests-" + "s" * 40


@pytest.mark.parametrize("csrf_first", [True, False], ids=["csrf-before-auth", "csrf-after"])
def test_csrf_may_be_installed_before_or_after_auth(csrf_first: bool) -> None:
    db = Database("sqlite+aiosqlite://")
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    csrf = CSRF(trusted_origins=["https://admin.example.com"])
    app = App(plugins=[db, csrf, auth] if csrf_first else [db, auth, csrf])

    @app.post("/")
    async def index(request: Request) -> dict[str, bool]:
        return {"user": request.user.is_authenticated}

    with TestClient(app) as client:
        trusted = client.post("/", headers={"origin": "https://admin.example.com"})
        foreign = client.post("/", headers={"origin": "https://evil.example"}, data={"a": "1"})
    assert trusted.json() == {"user": False}
    assert foreign.status_code == 403  # the app's own CSRF, with its trusted origins


def test_csrf_without_sessions_still_fails_at_start() -> None:
    app = App(plugins=[CSRF()])
    with pytest.raises(ConfigurationError) as caught:
        app.build()
    assert caught.value.code == "csrf-no-session"


class Widgets(Plugin):
    """Ships a template folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def template_directories(self) -> Sequence[Path]:
        return [self.folder]


class Dashboard(Plugin):
    """Stands on `Widgets`, which it installs when the app lacks it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def on_build(self, app: App) -> None:
        if not app.plugins_of(Widgets):
            app.install(Widgets(self.folder))


@pytest.mark.parametrize("templates_first", [True, False], ids=["templates-first", "last"])
def test_template_folders_of_plugins_installed_at_build_are_searched(
    tmp_path: Path, templates_first: bool
) -> None:
    (tmp_path / "widget.html").write_text("widget {{ name }}")
    templates, dashboard = Templates(None), Dashboard(tmp_path)
    app = App(plugins=[templates, dashboard] if templates_first else [dashboard, templates])

    @app.get("/")
    async def page(request: Request) -> Response:
        return await templates.render(request, "widget.html", {"name": "ok"})

    with TestClient(app) as client:
        assert client.get("/").text == "widget ok"


class Late(Plugin):
    def after_build(self, app: App) -> None:
        app.install(Widgets(Path()))


def test_installing_from_after_build_is_refused() -> None:
    app = App(plugins=[Late()])
    with pytest.raises(ConfigurationError) as caught:
        app.build()
    assert caught.value.code == "plugin-after-start"
    assert "after_build" in str(caught.value)


APP = """
import click

from trivium import App
from trivium.plugins import Plugin


class Inner(Plugin):
    def cli_commands(self):
        @click.command("inner-cmd")
        def command():
            click.echo("inner ran")

        return [command]


class Outer(Plugin):
    def on_build(self, app):
        if not app.plugins_of(Inner):
            app.install(Inner())


app = App(plugins=[Outer()])
"""


def test_cli_commands_of_plugins_installed_at_build_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "nested_cli_app.py").write_text(APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TRIVIUM_APP", "nested_cli_app:app")
    result = CliRunner().invoke(main, ["inner-cmd"])
    assert (result.exit_code, result.output) == (0, "inner ran\n")


CLASHING = """
import click

from trivium import App
from trivium.plugins import Plugin


class Noisy(Plugin):
    def cli_commands(self):
        @click.command("routes")
        def command():
            click.echo("the plugin's routes")

        return [command]


app = App(plugins=[Noisy()])
"""


def test_a_plugin_command_named_like_trivium_s_own_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`trivium routes` would run trivium's command and never the plugin's."""
    (tmp_path / "noisy_cli_app.py").write_text(CLASHING)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TRIVIUM_APP", "noisy_cli_app:app")
    helped = " ".join(CliRunner().invoke(main, ["--help"]).output.split())  # unwrapped
    assert "Noisy.cli_commands() adds 'routes', the name of trivium's own command" in helped
    assert "[plugin-cli-clash]" in helped


def test_an_unknown_command_without_the_app_says_how_plugins_commands_are_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRIVIUM_APP", raising=False)
    result = CliRunner().invoke(main, ["tasks", "list"])
    assert result.exit_code == 2
    assert "No such command 'tasks'" in result.output
    assert "need the app: set TRIVIUM_APP=module:app" in result.output


async def late() -> dict[str, bool]:
    return {"late": True}


def _include(app: App) -> None:
    router = Router()
    router.add_route("/late", late)
    app.include_router(router, prefix="/more")


def _mount(app: App) -> None:
    inner = App()
    inner.get("/late")(late)
    app.mount("/mounted", inner)


ADDING: dict[str, tuple[Callable[[App], Any], str]] = {
    "get": (lambda app: app.get("/late", name="late")(late), "/late"),
    "include_router": (_include, "/more/late"),
    "mount": (_mount, "/mounted/late"),
}


@pytest.mark.parametrize("how", sorted(ADDING))
def test_a_route_added_after_the_start_is_served(how: str) -> None:
    # FastAPI serves a route added to a started app (tests do it); so does trivium.
    app = App()
    app.get("/early")(late)
    add, path = ADDING[how]
    with TestClient(app) as client:
        assert client.get("/early").status_code == 200
        assert client.get(path).status_code == 404
        before = app.openapi()
        add(app)
        assert client.get(path).json() == {"late": True}
        if how != "mount":
            assert path in app.openapi()["paths"]
            assert path not in before["paths"]


def test_a_websocket_route_added_after_the_start_is_served() -> None:
    app = App()
    app.get("/early")(late)

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    with TestClient(app) as client:
        assert client.get("/early").status_code == 200
        app.add_websocket_route("/ws", echo)
        with client.websocket_connect("/ws") as websocket:
            websocket.send_text("hi")
            assert websocket.receive_text() == "hi"


def test_a_bad_route_added_after_the_start_fails_where_it_is_added() -> None:
    app = App()
    app.get("/early")(late)
    with TestClient(app) as client:
        client.get("/early")
        with pytest.raises(ConfigurationError):
            app.get("/items/{item_id}/{item_id}")(late)
