"""HTTP primitives: requests, responses, headers, uploads and websockets."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from trivium.http._cookies import SameSite
from trivium.http._cookies import format_set_cookie
from trivium.http._cookies import parse_cookie_header
from trivium.http._datastructures import URL
from trivium.http._datastructures import Address
from trivium.http._datastructures import FormData
from trivium.http._datastructures import Headers
from trivium.http._datastructures import MutableHeaders
from trivium.http._datastructures import QueryParams
from trivium.http._datastructures import State
from trivium.http._host import Authority
from trivium.http._host import parse_authority
from trivium.http._limits import FormLimits
from trivium.http._limits import Limits
from trivium.http._paths import app_path
from trivium.http._request import ClientDisconnect
from trivium.http._request import HTTPConnection
from trivium.http._request import Request
from trivium.http._response import HTMLResponse
from trivium.http._response import JSONResponse
from trivium.http._response import PlainTextResponse
from trivium.http._response import RedirectResponse
from trivium.http._response import Response

if TYPE_CHECKING:
    from trivium.http._file import FileResponse
    from trivium.http._streaming import EventSourceResponse
    from trivium.http._streaming import ServerSentEvent
    from trivium.http._streaming import StreamingResponse
    from trivium.http._streaming import stop_streams
    from trivium.http._upload import UploadFile
    from trivium.http._websocket import WebSocket
    from trivium.http._websocket import WebSocketDisconnect
    from trivium.http._websocket import WebSocketState

__all__ = [
    "URL",
    "Address",
    "Authority",
    "ClientDisconnect",
    "EventSourceResponse",
    "FileResponse",
    "FormData",
    "FormLimits",
    "HTMLResponse",
    "HTTPConnection",
    "Headers",
    "JSONResponse",
    "Limits",
    "MutableHeaders",
    "PlainTextResponse",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "Response",
    "SameSite",
    "ServerSentEvent",
    "State",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketState",
    "app_path",
    "format_set_cookie",
    "parse_authority",
    "parse_cookie_header",
    "stop_streams",
]

_LAZY = {
    "FileResponse": "trivium.http._file",
    "EventSourceResponse": "trivium.http._streaming",
    "ServerSentEvent": "trivium.http._streaming",
    "StreamingResponse": "trivium.http._streaming",
    "stop_streams": "trivium.http._streaming",
    "UploadFile": "trivium.http._upload",
    "WebSocket": "trivium.http._websocket",
    "WebSocketDisconnect": "trivium.http._websocket",
    "WebSocketState": "trivium.http._websocket",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trivium.http' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
