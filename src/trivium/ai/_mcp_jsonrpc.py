"""Refuse POST bodies the `mcp` SDK would misread, with JSON-RPC's Invalid Request (-32600).

The SDK takes a request whose `id` is `null`, an object or a list for a notification
(answered 202, so the client waits forever for its answer), and answers a batch array
with -32602 and a validation dump. JSON-RPC 2.0 calls both an Invalid Request; MCP says
an `id` is a string or an integer, never `null`, and the 2025-06-18 revision removed
batches. The body is read here once and handed on to the SDK unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

__all__ = ["INVALID_REQUEST", "buffered", "invalid_request", "problem"]

INVALID_REQUEST = -32600
"""JSON-RPC error code of a message that is not a valid request."""

Receive = Callable[[], Awaitable[dict[str, Any]]]


async def buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body; return it and a `receive` that replays it first."""
    chunks: list[bytes] = []
    last: dict[str, Any] | None = None
    while True:
        message = await receive()
        if message["type"] != "http.request":
            last = message  # the client left: the SDK sees it after the body
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> dict[str, Any]:
        nonlocal replayed, last
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": last is not None}
        if last is not None:
            message, last = last, None
            return message
        return await receive()

    return body, replay


def problem(body: bytes) -> str | None:
    """Say why `body` is not a valid JSON-RPC message (`None`: valid, or left to the SDK).

    A body that is not JSON is left to the SDK, which answers its Parse error (-32700).
    """
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(message, list):
        return (
            "batches are not supported (MCP removed JSON-RPC batching in 2025-06-18): "
            "send one message per request"
        )
    if not isinstance(message, dict):
        return "a JSON-RPC message is a JSON object"
    if message.get("jsonrpc") != "2.0":
        return 'a JSON-RPC message has "jsonrpc": "2.0"'
    if "method" not in message:
        return None  # a response: the SDK checks it
    if not isinstance(message["method"], str):
        return "the method is a string"
    if "id" in message and not _valid_id(message["id"]):
        return "the id is a string or an integer (a notification has no id member at all)"
    return None


def invalid_request(reason: str) -> dict[str, Any]:
    """The JSON-RPC error answering an invalid request (its id is unknown: `null`)."""
    return {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": INVALID_REQUEST, "message": f"Invalid Request: {reason}"},
    }


def _valid_id(value: object) -> bool:
    # Not a float, even `1.0`: the SDK would take that request for a notification too.
    return isinstance(value, str | int) and not isinstance(value, bool)
