"""The default exception handlers, callable from your own (as `fastapi.exception_handlers`).

A custom handler can log or count an error and then answer as trivium would:

```python
@app.exception_handler(HTTPException)
async def logged(request, exc):
    log.info("HTTP %s", exc.status_code)
    return await http_exception_handler(request, exc)
```
"""

from __future__ import annotations

from trivium.errors import HTTPException
from trivium.errors import RequestValidationError
from trivium.http._request import Request
from trivium.http._response import JSONResponse
from trivium.http._response import Response

__all__ = [
    "http_exception_handler",
    "request_validation_exception_handler",
    "websocket_request_validation_exception_handler",
]


async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """Answer `{"detail": exc.detail}` with the exception's status and headers."""
    if exc.status_code < 200 or exc.status_code in (204, 304):
        return Response(None, exc.status_code, exc.headers)
    return JSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)


async def request_validation_exception_handler(
    request: Request, exc: RequestValidationError
) -> Response:
    """Answer 422 with `{"detail": [errors]}`."""
    from trivium.encoders import jsonable_encoder

    return JSONResponse({"detail": jsonable_encoder(exc.errors())}, 422)


async def websocket_request_validation_exception_handler(
    websocket: object, exc: RequestValidationError
) -> None:
    """Close the websocket with 1008 (policy violation) and the errors as the reason."""
    from trivium.encoders import jsonable_encoder
    from trivium.http._websocket import WebSocket

    if isinstance(websocket, WebSocket):
        await websocket.close(1008, str(jsonable_encoder(exc.errors()))[:120])
