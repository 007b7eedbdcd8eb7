"""`starlette.responses`: the response classes."""

from __future__ import annotations

from trivium.responses import FileResponse
from trivium.responses import HTMLResponse
from trivium.responses import JSONResponse
from trivium.responses import PlainTextResponse
from trivium.responses import RedirectResponse
from trivium.responses import Response
from trivium.responses import StreamingResponse

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]
