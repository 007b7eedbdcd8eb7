"""The four basic endpoints as a bare RSGI callable: the ceiling for the whole benchmark.

RSGI is Granian's native interface (``app(scope, proto)``; the body is read with
``await proto()`` and the response sent with ``proto.response_bytes``). Validation
is by hand and matches the framework apps: 422 on invalid input, 400 on malformed JSON.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson

PLAIN_HEADERS = [("content-type", "text/plain; charset=utf-8")]
JSON_HEADERS = [("content-type", "application/json")]
HELLO = b"Hello, World!"
HELLO_JSON = {"message": "Hello, World!"}


class Invalid(Exception):
    """Raised for input that fails validation; the message goes to the client."""


def parse_int(raw: str, name: str) -> int:
    """Parse a decimal integer the way a typed framework would, or raise Invalid."""
    text = raw.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit():
        raise Invalid(f"{name}: value is not a valid integer")
    return int(text)


def item_query(item_id: str, query_string: str) -> dict[str, object]:
    """Validate the path id and the q/limit query parameters of GET /items/{id}."""
    params = dict(parse_qsl(query_string, keep_blank_values=True))
    limit = parse_int(params["limit"], "limit") if "limit" in params else 10
    if not 1 <= limit <= 100:
        raise Invalid("limit: must be between 1 and 100")
    return {"id": parse_int(item_id, "id"), "q": params.get("q"), "limit": limit}


def item_body(body: bytes) -> dict[str, object]:
    """Validate a JSON item {name: str, price: float, tags: list[str] = []}."""
    data = orjson.loads(body)  # orjson.JSONDecodeError is handled by the caller (400)
    if not isinstance(data, dict):
        raise Invalid("body: must be a JSON object")
    name, price, tags = data.get("name"), data.get("price"), data.get("tags", [])
    if not isinstance(name, str):
        raise Invalid("name: a string is required")
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise Invalid("price: a number is required")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise Invalid("tags: must be a list of strings")
    return {"name": name, "price": float(price), "tags": tags}


async def app(scope, proto) -> None:
    if scope.proto != "http":
        return
    path, method = scope.path, scope.method
    try:
        if path == "/plaintext" and method == "GET":
            proto.response_bytes(200, PLAIN_HEADERS, HELLO)
        elif path == "/json" and method == "GET":
            proto.response_bytes(200, JSON_HEADERS, orjson.dumps(HELLO_JSON))
        elif path == "/items" and method == "POST":
            item = item_body(await proto())
            proto.response_bytes(200, JSON_HEADERS, orjson.dumps(item))
        elif path.startswith("/items/") and path.count("/") == 2 and method == "GET":
            query = item_query(path[7:], scope.query_string)
            proto.response_bytes(200, JSON_HEADERS, orjson.dumps(query))
        else:
            proto.response_bytes(404, JSON_HEADERS, b'{"detail":"Not Found"}')
    except orjson.JSONDecodeError:
        proto.response_bytes(400, JSON_HEADERS, b'{"detail":"malformed JSON body"}')
    except Invalid as exc:
        proto.response_bytes(422, JSON_HEADERS, orjson.dumps({"detail": str(exc)}))
