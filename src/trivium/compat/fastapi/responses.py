"""`fastapi.responses`: the response classes (`ORJSONResponse` and `UJSONResponse` are JSON responses)."""

from __future__ import annotations

from trivium.compat._responses import ORJSONResponse
from trivium.compat._responses import UJSONResponse
from trivium.responses import EventSourceResponse
from trivium.responses import FileResponse
from trivium.responses import HTMLResponse
from trivium.responses import JSONResponse
from trivium.responses import PlainTextResponse
from trivium.responses import RedirectResponse
from trivium.responses import Response
from trivium.responses import StreamingResponse

__all__ = [
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "UJSONResponse",
]
