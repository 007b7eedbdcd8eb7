"""Correctness checks run against every app before it is measured (and by --smoke).

Each check sends one real request over loopback and compares status, content type
and body with what the endpoint must answer. Invalid input must get 400 or 422.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from harness.scenarios import BASIC
from harness.scenarios import DB

REJECTED = (400, 422)
EXTRA_FORTUNE = "Additional fortune added at request time."


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def fetch(base_url: str, method: str, path: str, body: object = None, raw: bytes | None = None):
    """Send one request and return the reply; ``body`` is sent as JSON."""
    netloc = urlsplit(base_url).netloc
    conn = http.client.HTTPConnection(netloc, timeout=30)
    headers = {}
    payload = raw
    if body is not None:
        payload = json.dumps(body).encode()
    if payload is not None:
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        return Reply(resp.status, resp.getheader("content-type", ""), resp.read())
    finally:
        conn.close()


class CheckFailed(Exception):
    """An endpoint answered something other than what it must."""


def expect(ok: bool, what: str, reply: Reply) -> None:
    if not ok:
        snippet = reply.body[:200].decode(errors="replace")
        raise CheckFailed(f"{what}; got {reply.status} {reply.content_type!r} {snippet!r}")


def expect_json(reply: Reply, expected: object, what: str) -> None:
    expect(reply.status == 200, f"{what}: status 200 expected", reply)
    expect(reply.content_type.startswith("application/json"), f"{what}: JSON expected", reply)
    try:
        data = reply.json()
    except ValueError:
        data = None
    expect(data == expected, f"{what}: body {expected!r} expected", reply)


def expect_rejected(reply: Reply, what: str) -> None:
    expect(reply.status in REJECTED, f"{what}: 400 or 422 expected", reply)


# --- basic endpoints ---------------------------------------------------------------------


def check_plaintext(url: str) -> None:
    reply = fetch(url, "GET", "/plaintext")
    expect(reply.status == 200, "GET /plaintext: status 200 expected", reply)
    expect(
        reply.content_type.startswith("text/plain"), "GET /plaintext: text/plain expected", reply
    )
    expect(reply.body == b"Hello, World!", "GET /plaintext: 'Hello, World!' expected", reply)


def check_json(url: str) -> None:
    expect_json(fetch(url, "GET", "/json"), {"message": "Hello, World!"}, "GET /json")


def check_items_get(url: str) -> None:
    path = "/items/42?q=hello&limit=5"
    expect_json(fetch(url, "GET", path), {"id": 42, "q": "hello", "limit": 5}, f"GET {path}")
    expect_json(fetch(url, "GET", "/items/7"), {"id": 7, "q": None, "limit": 10}, "GET /items/7")
    for bad in ("/items/abc", "/items/7?limit=0", "/items/7?limit=101", "/items/7?limit=x"):
        expect_rejected(fetch(url, "GET", bad), f"GET {bad}")


def check_items_post(url: str) -> None:
    item = {"name": "widget", "price": 9.99, "tags": ["red", "blue"]}
    expect_json(fetch(url, "POST", "/items", item), item, "POST /items")
    bare = {"name": "widget", "price": 3}
    expect_json(fetch(url, "POST", "/items", bare), {**bare, "tags": []}, "POST /items (no tags)")
    for bad in (
        {"price": 1.5},
        {"name": "w", "price": "abc"},
        {"name": "w", "price": 1, "tags": 3},
    ):
        expect_rejected(fetch(url, "POST", "/items", bad), f"POST /items {bad}")
    expect_rejected(fetch(url, "POST", "/items", raw=b'{"name": '), "POST /items (bad JSON)")


# --- database endpoints ------------------------------------------------------------------


def _worlds(reply: Reply, count: int, what: str) -> list[dict[str, int]]:
    expect(reply.status == 200, f"{what}: status 200 expected", reply)
    expect(reply.content_type.startswith("application/json"), f"{what}: JSON expected", reply)
    data = reply.json()
    expect(isinstance(data, list) and len(data) == count, f"{what}: {count} rows expected", reply)
    for row in data:
        _world(row, reply, what)
    return data


def _world(row: object, reply: Reply, what: str) -> None:
    ok = isinstance(row, dict) and set(row) == {"id", "randomNumber"}
    ok = ok and all(type(row[k]) is int and 1 <= row[k] <= 10000 for k in row)
    expect(ok, f"{what}: rows like {{'id': 1..10000, 'randomNumber': 1..10000}} expected", reply)


def check_db(url: str) -> None:
    reply = fetch(url, "GET", "/db")
    expect(reply.status == 200, "GET /db: status 200 expected", reply)
    expect(reply.content_type.startswith("application/json"), "GET /db: JSON expected", reply)
    _world(reply.json(), reply, "GET /db")


QUERY_COUNTS = (("", 1), ("?queries=", 1), ("?queries=foo", 1), ("?queries=0", 1))
QUERY_COUNTS += (("?queries=7", 7), ("?queries=501", 500))


def check_queries(url: str) -> None:
    for query, count in QUERY_COUNTS:
        _worlds(fetch(url, "GET", f"/queries{query}"), count, f"GET /queries{query}")


def check_updates(url: str) -> None:
    _worlds(fetch(url, "GET", "/updates?queries=foo"), 1, "GET /updates?queries=foo")
    reply = fetch(url, "GET", "/updates?queries=5")
    rows = _worlds(reply, 5, "GET /updates?queries=5")
    stored = _stored_numbers([row["id"] for row in rows])
    final = {row["id"]: row["randomNumber"] for row in rows}  # the last value of a repeated id
    expect(stored == final, f"GET /updates: database holds {stored}, answered {final}", reply)


def _stored_numbers(ids: list[int]) -> dict[int, int]:
    import psycopg  # only the DB suite needs it
    from setup_db import conninfo

    with psycopg.connect(conninfo(), connect_timeout=5) as conn:
        rows = conn.execute("SELECT id, randomnumber FROM world WHERE id = ANY(%s)", [ids])
        return dict(rows.fetchall())


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._in_td = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "td":
            self._in_td = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_td = self._in_td and tag != "td"

    def handle_data(self, data: str) -> None:
        if self._in_td:
            self.cells[-1] += data


def check_fortunes(url: str) -> None:
    from setup_db import FORTUNES

    reply = fetch(url, "GET", "/fortunes")
    expect(reply.status == 200, "GET /fortunes: status 200 expected", reply)
    expect(reply.content_type.startswith("text/html"), "GET /fortunes: text/html expected", reply)
    html = reply.body.decode("utf-8")
    expect("<script>" not in html, "GET /fortunes: <script> must be escaped", reply)
    expect("&lt;script&gt;" in html, "GET /fortunes: escaped &lt;script&gt; expected", reply)
    rows = [(0, EXTRA_FORTUNE), *enumerate(FORTUNES, start=1)]
    expected = [cell for row in sorted(rows, key=lambda r: r[1]) for cell in map(str, row)]
    parser = _Cells()
    parser.feed(html)
    expect(parser.cells == expected, "GET /fortunes: 13 sorted rows (id, message) expected", reply)


CHECKS: dict[str, tuple[Callable[[str], None], ...]] = {
    BASIC: (check_plaintext, check_json, check_items_get, check_items_post),
    DB: (check_db, check_queries, check_fortunes, check_updates),
}


def run_checks(suite: str, base_url: str) -> list[str]:
    """Run every check of a suite; return the failures (empty when all pass)."""
    failures = []
    for check in CHECKS[suite]:
        try:
            check(base_url)
        except CheckFailed as exc:
            failures.append(str(exc))
        except (OSError, http.client.HTTPException, ValueError) as exc:
            failures.append(f"{check.__name__}: {type(exc).__name__}: {exc}")
    return failures
