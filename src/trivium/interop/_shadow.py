"""Shadow mode: the legacy app answers, trivium's handler runs on a copy, both compared.

The request body is read once (up to the limit) and replayed to both sides. The legacy
answer streams to the client as it comes, recording its status and body; trivium's
answer goes to a sink. A difference in status or body (JSON bodies compared as
values, so key order and spacing don't count) is logged on the
`trivium.interop.shadow` logger and passed to the `on_difference` callback. Trivium's
handler runs after the client got the legacy answer, and its failures are logged, never
shown: shadowing can't break what users see. It can double side effects, though: shadow
only handlers that are safe to run twice (reads, or writes to a scratch database).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

import orjson

from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.routing import Mount

__all__ = ["Shadow", "ShadowReport"]

logger = logging.getLogger("trivium.interop.shadow")

_RSGI_KEYS = ("rsgi.scope",)


@dataclass(frozen=True, slots=True)
class ShadowReport:
    """A difference between the legacy answer and trivium's, for one request."""

    method: str
    """The request's method."""
    path: str
    """The request's path."""
    legacy_status: int
    """The status the legacy app answered (and the client got)."""
    trivium_status: int
    """The status trivium's handler answered (500 when it raised)."""
    legacy_body: bytes
    """The legacy body (cut at the shadow limit)."""
    trivium_body: bytes
    """Trivium's body (cut at the shadow limit)."""


class _Recorder:
    """A `send` that records status and body (up to `limit`), forwarding to `send` if given."""

    __slots__ = ("body", "limit", "send", "status")

    def __init__(self, limit: int, send: Send | None = None) -> None:
        self.send = send
        self.limit = limit
        self.status = 0
        self.body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body" and len(self.body) <= self.limit:
            self.body += message.get("body", b"")[: self.limit + 1 - len(self.body)]
        if self.send is not None:
            await self.send(message)


class Shadow:
    """Run a route in shadow mode (see the module docstring)."""

    __slots__ = ("legacy", "limit", "on_difference")

    def __init__(
        self,
        legacy: Mount,
        limit: int,
        on_difference: Callable[[ShadowReport], None] | None,
    ) -> None:
        self.legacy = legacy
        self.limit = limit
        self.on_difference = on_difference

    async def run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        app: App,
        trivium: Callable[[Scope, Receive, Send, App], Awaitable[None]],
    ) -> None:
        """Answer from the legacy app, then compare with trivium's answer."""
        body, ended = await _read_upto(receive, self.limit)
        if len(body) > self.limit or not ended:
            if ended:
                logger.info("not shadowed: request body over %d bytes", self.limit)
            # A body cut short by the client goes on from the server's `receive`,
            # which reports the client leaving, so the legacy app's read fails.
            rest = None if ended else receive
            await self.legacy.handle(scope, _replay(body, rest, receive), send, app.policy)
            return
        legacy = _Recorder(self.limit, send)
        # After the body, the legacy app's `receive` is the server's: it reports the
        # client leaving (the WSGI bridge watches it while a response streams).
        await self.legacy.handle(_copy(scope), _replay(body, None, receive), legacy, app.policy)
        ours = _Recorder(self.limit)
        try:
            await trivium(_copy(scope), _replay(body, None), ours, app)
        except Exception:
            logger.exception("shadowed handler failed on %s %s", scope["method"], scope["path"])
            ours.status = 500
        if ours.status != legacy.status or not _same_body(legacy.body, ours.body):
            self._report(scope, legacy, ours)

    def _report(self, scope: Scope, legacy: _Recorder, ours: _Recorder) -> None:
        report = ShadowReport(
            scope["method"],
            scope["path"],
            legacy.status,
            ours.status,
            bytes(legacy.body[: self.limit]),
            bytes(ours.body[: self.limit]),
        )
        logger.warning(
            "shadow difference on %s %s: legacy %d (%d bytes), trivium %d (%d bytes)",
            report.method,
            report.path,
            report.legacy_status,
            len(report.legacy_body),
            report.trivium_status,
            len(report.trivium_body),
        )
        if self.on_difference is not None:
            self.on_difference(report)


def _same_body(legacy: bytearray, ours: bytearray) -> bool:
    """Equal bytes, or JSON documents with equal values (key order and spacing aside)."""
    if legacy == ours:
        return True
    try:
        return bool(orjson.loads(legacy) == orjson.loads(ours))
    except orjson.JSONDecodeError:
        return False


def _copy(scope: Scope) -> dict[str, Any]:
    materialize = getattr(scope, "materialize", None)
    copy: dict[str, Any] = materialize() if materialize is not None else dict(scope)
    for key in _RSGI_KEYS:
        copy.pop(key, None)  # both sides go through receive/send, not the RSGI protocol
    copy["headers"] = list(copy.get("headers", ()))
    if "state" in copy:
        copy["state"] = dict(copy["state"])
    return copy


async def _read_upto(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """Read the body while it fits in `limit`; return it and whether the body ended.

    The body fits when it ended and it is at most `limit` bytes long. A client that
    left before the end of its body (`http.disconnect`) leaves it unended.
    """
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(body), False
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(body), True
        if len(body) > limit:
            return bytes(body), False


def _replay(body: bytes, rest: Receive | None, after: Receive | None = None) -> Receive:
    """A `receive` giving `body` first, then the rest of the stream (or the end).

    Once the body ended, `after` (the server's `receive`, which reports the client
    leaving) answers; without it, a disconnect at once.
    """
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": rest is not None}
        if rest is not None:
            return await rest()
        if after is not None:
            return await after()
        return {"type": "http.disconnect"}

    return receive
