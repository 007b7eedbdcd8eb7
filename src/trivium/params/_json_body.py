"""What a plan does when a JSON body fails to parse or validate.

FastAPI's 422 for malformed JSON, and a second, exact reading of integers beyond 64 bits
(orjson reads them as floats). Only the failure path comes here; a body that parses and validates never does.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from trivium.errors import RequestValidationError

__all__ = ["exact_body", "json_error"]

_BIG_INT = re.compile(rb"[0-9]{19}")
"""A run of digits orjson may have read as a float (an integer beyond 64 bits)."""


async def exact_body(conn: Any, errors: list[dict[str, Any]]) -> Any:
    """Return the body read again with its big integers exact, or `None` if no use.

    Only when validation failed on an integer's size (or a float given for one) in the
    body, and the body holds a run of digits orjson may have rounded.
    """
    if not any(
        error["type"] in ("int_parsing_size", "int_from_float") and error["loc"][0] == "body"
        for error in errors
    ):
        return None
    text = await conn.body()
    if not _BIG_INT.search(text):
        return None
    return json.loads(text)


def json_error(exc: orjson.JSONDecodeError, body: bytes) -> RequestValidationError:
    """Describe malformed JSON as FastAPI does: a 422 `json_invalid` error at its position.

    The position and message are the standard library's (FastAPI parses with `json`),
    found again only on this error path.
    """
    position, message = exc.pos, exc.msg
    try:
        json.loads(body)
    except ValueError as stdlib:
        position = getattr(stdlib, "pos", position)
        message = getattr(stdlib, "msg", message)
    error = {
        "type": "json_invalid",
        "loc": ("body", position),
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": message},
    }
    return RequestValidationError([error], body)
