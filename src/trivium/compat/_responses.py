"""FastAPI's extra JSON response classes: both are trivium's orjson-backed `JSONResponse`."""

from __future__ import annotations

from trivium.responses import JSONResponse

__all__ = ["ORJSONResponse", "UJSONResponse"]


class ORJSONResponse(JSONResponse):
    """A JSON response; trivium's `JSONResponse` already serializes with orjson."""

    __slots__ = ()


class UJSONResponse(JSONResponse):
    """A JSON response (serialized with orjson; the output is the same JSON)."""

    __slots__ = ()
