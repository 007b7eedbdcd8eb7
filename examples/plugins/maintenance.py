"""`Maintenance`: a small third-party plugin written on trivium's public plugin protocol.

It switches an app into maintenance mode and back without a restart (on this worker):

- a **request step** answers `503` with `Retry-After` on every route that takes the
  `Request` while maintenance is on (other routes, e.g. health checks, keep working),
  and tags the responses it lets through;
- **routes** to turn it on and off (`POST /maintenance/on`, `POST /maintenance/off`);
- a **dependency provider**: handlers declare `Annotated[bool, Depends(in_maintenance)]`
  and the plugin provides the answer;
- a **lifespan** that logs when serving starts and stops;
- an **OpenAPI component** documenting the 503 body.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium import Router
from trivium.http import HTTPConnection
from trivium.http import Response
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.routing import BaseRoute

logger = logging.getLogger("maintenance")


def in_maintenance() -> bool:
    """Whether the app is in maintenance mode (provided by the `Maintenance` plugin)."""
    raise NotImplementedError("install the Maintenance plugin")


class MaintenanceStep(RequestStep):
    """Refuse requests while maintenance is on; tag the others."""

    __slots__ = ("plugin",)
    order = 50  # before sessions (100): a refused request costs no store access

    def __init__(self, plugin: Maintenance) -> None:
        self.plugin = plugin

    async def before(self, connection: HTTPConnection) -> None:
        if self.plugin.on and not connection.scope["path"].startswith(self.plugin.prefix):
            raise HTTPException(503, self.plugin.message, headers={"Retry-After": "120"})

    async def after(self, request: Request, response: Response | None) -> None:
        if response is not None:
            response.headers["X-Maintenance"] = "on" if self.plugin.on else "off"


class Maintenance(Plugin):
    """Maintenance mode for an app; see the module docstring."""

    install_hint = "app.install(Maintenance())"

    def __init__(self, *, message: str = "Back soon", prefix: str = "/maintenance") -> None:
        self.on = False
        self.message = message
        self.prefix = prefix
        self.step = MaintenanceStep(self)

    def routes(self, app: App) -> Sequence[Router | BaseRoute]:
        router = Router(prefix=self.prefix, tags=["maintenance"])

        @router.post("/on")
        async def switch_on() -> dict[str, bool]:
            self.on = True
            return {"maintenance": True}

        @router.post("/off")
        async def switch_off() -> dict[str, bool]:
            self.on = False
            return {"maintenance": False}

        return [router]

    def providers(self, app: App) -> Mapping[Any, Any]:
        return {in_maintenance: lambda: self.on}

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        wanted = route.takes_connection and not (route.websocket or route.fallback)
        return (self.step,) if wanted else ()

    def lifespan(self, app: App) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._serving(app)

    @contextlib.asynccontextmanager
    async def _serving(self, app: App) -> AsyncIterator[None]:
        logger.info("%s serving (maintenance %s)", app.title, "on" if self.on else "off")
        yield
        logger.info("%s stopped", app.title)

    def openapi_components(self, app: App) -> Mapping[str, Mapping[str, Any]]:
        detail = {"type": "object", "properties": {"detail": {"type": "string"}}}
        return {"schemas": {"MaintenanceError": detail}}

    def cli_commands(self) -> Sequence[Any]:
        import click

        @click.command("maintenance")
        def show() -> None:
            """Say whether maintenance mode is on."""
            click.echo(f"maintenance is {'on' if self.on else 'off'}")

        return [show]
