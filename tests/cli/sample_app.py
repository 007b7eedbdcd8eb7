"""Raw ASGI and RSGI apps for the CLI tests; they do not depend on trivium's core.

Each app answers every HTTP request with JSON naming the interface that served it, the
worker's PID and MESSAGE (which the reload test edits).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import MutableMapping
from typing import Any

MESSAGE = "v1"


def _body(interface: str) -> str:
    return json.dumps(
        {
            "interface": interface,
            "pid": os.getpid(),
            "message": MESSAGE,
            "workers": os.environ.get("TRIVIUM_WORKERS"),
        }
    )


class AsgiOnlyApp:
    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": _body("asgi").encode()})


class SampleApp(AsgiOnlyApp):
    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto == "http":
            proto.response_str(200, [("content-type", "application/json")], _body("rsgi"))


class RsgiOnlyApp:
    __rsgi__ = SampleApp.__rsgi__


def create_app() -> SampleApp:
    return SampleApp()


app = SampleApp()
asgi_app = AsgiOnlyApp()
rsgi_app = RsgiOnlyApp()
not_an_app = 42


class CrashingApp(SampleApp):
    """Kills the worker that starts it: a crash loop for the respawn guard."""

    def __rsgi_init__(self, loop: Any) -> None:
        del loop
        os.kill(os.getpid(), signal.SIGKILL)


crashing_app = CrashingApp()


async def asgi_function(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    """A plain function that is an ASGI app."""
    await asgi_app(scope, receive, send)
