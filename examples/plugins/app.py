"""An app using the `Maintenance` plugin next to trivium's own batteries."""

from __future__ import annotations

from typing import Annotated

from examples.plugins.maintenance import Maintenance
from examples.plugins.maintenance import in_maintenance
from trivium import App
from trivium import Depends
from trivium import Request

maintenance = Maintenance(message="Upgrading the shop")
app = App(title="Shop", plugins=[maintenance])


@app.get("/health")
async def health() -> dict[str, str]:
    """Takes no request: never refused, costs no step."""
    return {"status": "ok"}


@app.get("/orders")
async def orders(request: Request) -> dict[str, str]:
    """Takes the request: refused with 503 while maintenance is on."""
    return {"orders": request.url.path}


@app.get("/status")
async def status(down: Annotated[bool, Depends(in_maintenance)]) -> dict[str, bool]:
    """Reads the plugin's state through the dependency it provides."""
    return {"maintenance": down}
