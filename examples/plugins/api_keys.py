"""`ApiKeys`: a gate plugin that admits requests carrying a known `X-API-Key`.

A `Gate` is a request step that decides from what arrived with the request (headers,
client address, URL) and only adds headers to the response. A route whose steps are
all gates, and whose handler does not take the `Request`, is served on RSGI without
building one. See docs/plugins.md, "Gates".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from trivium import App
from trivium import HTTPException
from trivium.http import HTTPConnection
from trivium.http import Response
from trivium.plugins import Gate
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds


class KeyGate(Gate):
    """Refuse a request without a known key; tell the client which key was used."""

    order = 180  # after rate limits (150), before authentication (200)

    def __init__(self, keys: dict[str, str]) -> None:
        self.owners = {hashlib.sha256(key.encode()).hexdigest(): who for key, who in keys.items()}

    def before(self, connection: HTTPConnection) -> None:
        key = connection.header_value("x-api-key")
        owner = self.owners.get(hashlib.sha256(key.encode()).hexdigest()) if key else None
        if owner is None:
            raise HTTPException(401, "a valid X-API-Key header is required")
        connection.set_scope_value("api_key_owner", owner)  # for `after` (and the handler)

    def after(self, connection: HTTPConnection, response: Response | None) -> None:
        owner = connection.scope_value("api_key_owner")
        if response is not None and owner is not None:
            response.raw_headers.append((b"x-api-key-owner", owner.encode()))


class ApiKeys(Plugin):
    """Guard the routes given `api_key=True` with the keys in `keys` (key: owner)."""

    route_options = ("api_key",)

    def __init__(self, keys: dict[str, str]) -> None:
        self.gate = KeyGate(keys)

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        return [self.gate] if route.options.get("api_key") else []


app = App(plugins=[ApiKeys({"k-123": "reporting"})])


@app.get("/reports/{year}", plugin_options={"api_key": True})
async def report(year: int, quarter: int = 1) -> dict[str, int]:
    return {"year": year, "quarter": quarter}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
