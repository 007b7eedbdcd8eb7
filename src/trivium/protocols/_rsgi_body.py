"""The request body over RSGI: an ASGI `receive`, and what a broken body becomes.

Granian reads a body two ways. `await protocol()` returns it whole and raises
`RSGIProtocolClosed` when it can't be read to its end (a client gone mid-upload, a
malformed chunk size); trivium turns that into `ClientDisconnect`, answered with an
empty 400 before the handler runs, as on ASGI. Iterating the protocol never raises:
the body ends with an empty chunk, and a read that failed adds one more empty chunk
before it, so `_Receiver` looks again only after an empty chunk (a normal body never
pays for it) and reports two at the end of an HTTP/1 body as `http.disconnect`. Over
HTTP/2 a body may end with an empty frame of its own, so there the two can't be told
apart and the body is taken as sent (see docs/interop.md).
"""

from __future__ import annotations

from typing import Any

from trivium.types import Message

__all__ = ["body_error", "rsgi_receive"]

# More empty chunks in a row than a client would ever send: Granian repeats one for a
# body that keeps failing (an HTTP/2 stream reset, say), and the reader must not spin.
_EMPTY_LIMIT = 16


def body_error(exc: RuntimeError) -> Exception:
    """What a failed `await protocol()` raises: `ClientDisconnect` for a broken body."""
    from granian._granian import RSGIProtocolClosed

    from trivium.http._request import ClientDisconnect

    if isinstance(exc, RSGIProtocolClosed):
        return ClientDisconnect("the request body could not be read to its end")
    return exc


def rsgi_receive(protocol: Any, rsgi: Any) -> _Receiver:
    """Return an ASGI `receive` that streams the body of the RSGI request `rsgi`."""
    return _Receiver(protocol, rsgi)


class _Receiver:
    # An object rather than a closure: made for every request, called by few.
    __slots__ = ("chunks", "done", "protocol", "rsgi")

    def __init__(self, protocol: Any, rsgi: Any) -> None:
        self.protocol = protocol
        self.rsgi = rsgi
        self.chunks: Any = None
        self.done = False

    async def read_all(self) -> bytes | None:
        """Read the whole body in one call to the server (`None` once streaming began).

        `Request.body()` uses it for a body of declared length; the channel then
        behaves as one whose body was read to the end.

        Raises:
            ClientDisconnect: the body could not be read to its end.
        """
        if self.chunks is not None or self.done:
            return None
        self.done = True
        try:
            return bytes(await self.protocol())
        except RuntimeError as exc:
            raise body_error(exc) from None

    async def __call__(self) -> Message:
        if self.done:
            await self.protocol.client_disconnect()
            return {"type": "http.disconnect"}
        if self.chunks is None:
            self.chunks = self.protocol.__aiter__()
        try:
            chunk = await self.chunks.__anext__()
        except StopAsyncIteration:
            self.done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if chunk:
            return {"type": "http.request", "body": bytes(chunk), "more_body": True}
        return await self._after_empty()

    async def _after_empty(self) -> Message:
        """Read on after an empty chunk: the body's end, or a sign that it broke."""
        empty = 1
        while True:
            try:
                chunk = await self.chunks.__anext__()
            except StopAsyncIteration:
                self.done = True
                if empty > 1 and self._broken():
                    return {"type": "http.disconnect"}
                return {"type": "http.request", "body": b"", "more_body": False}
            if chunk:  # an empty HTTP/2 frame mid-body
                return {"type": "http.request", "body": bytes(chunk), "more_body": True}
            empty += 1
            if empty > _EMPTY_LIMIT:
                self.done = True
                return {"type": "http.disconnect"}

    def _broken(self) -> bool:
        """Whether a body that ended after an extra empty chunk failed to be read.

        Over HTTP/1 Granian adds that chunk for a failed read or for trailers; trailers
        are announced (`Trailer`) by the clients that send them. Over HTTP/2 it is the
        client's own empty last frame as often as not.
        """
        rsgi = self.rsgi
        return rsgi.http_version in ("1", "1.0", "1.1") and "trailer" not in rsgi.headers
