"""Response classes: `from trivium.responses import JSONResponse, StreamingResponse, ...`."""

from __future__ import annotations

from trivium.http._file import FileResponse
from trivium.http._response import HTMLResponse
from trivium.http._response import JSONResponse
from trivium.http._response import PlainTextResponse
from trivium.http._response import RedirectResponse
from trivium.http._response import Response
from trivium.http._streaming import EventSourceResponse
from trivium.http._streaming import ServerSentEvent
from trivium.http._streaming import StreamingResponse

__all__ = [
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "ServerSentEvent",
    "StreamingResponse",
]
