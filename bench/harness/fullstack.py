"""The full-stack suite: log in like a browser, check every answer, count inserted rows.

Each app of the suite has sessions (in Redis), authentication (users in PostgreSQL) and
CSRF protection installed, and serves

- ``GET /json`` to anyone (the ``anon_batteries`` scenario),
- ``GET /me``: ``{"email": ...}`` for the logged-in user, refused without a session,
- ``GET /notes/new``: an HTML form carrying its CSRF token in a hidden field,
- ``POST /notes/new``: the form validated (``title`` 1..200 characters, ``body`` up to
  2,000, ``priority`` 1..5), one row inserted, ``303``; an invalid form inserts nothing
  and is answered 200/400/422 (redisplayed), a missing CSRF token 400 or 403,
- a login page at its framework's usual place, whose form the harness fills in.

The harness logs in through that page (hidden fields copied, cookies kept), so wrk can
send the session cookie and, for ``form_post``, the form with its token.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from urllib.parse import urlencode
from urllib.parse import urlsplit

EMAIL = "bench@example.com"
PASSWORD = "bench-password-2026"  # noqa: S105 - the benchmark user of a local database
NOTE = {"title": "Benchmark note", "body": "Written by the benchmark harness.", "priority": "3"}
INVALID_NOTE = {**NOTE, "priority": "9"}
ROW_WAIT = 2.0  # seconds a committed row may take to become visible after the answer


@dataclass(frozen=True)
class Stack:
    """Where a framework's full-stack app keeps its login form and its notes."""

    login_path: str
    identifier: str  # the login form's field for the email
    notes_table: str  # the table POST /notes/new inserts into (schema-qualified if needed)
    own_setup: bool = False  # the app creates its own tables and user (``full.setup()``)


STACKS = {
    "trivium": Stack("/accounts/login", "identifier", "bench_trivium.trivium_note", True),
    "django": Stack("/accounts/login/", "username", "bench_django.notes_note", True),
    "flask": Stack("/login", "email", "bench_fullstack.flask_note"),
    "fastapi": Stack("/login", "email", "bench_fullstack.fastapi_note"),
    "raw_rsgi": Stack("/login", "email", "bench_fullstack.raw_note"),
}


class CheckFailed(Exception):
    """An endpoint answered something other than what it must."""


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def describe(self) -> str:
        location = self.headers.get("location")
        where = f" -> {location}" if location else ""
        return f"{self.status}{where} {self.body[:200].decode(errors='replace')!r}"


@dataclass
class Browser:
    """A cookie-keeping client for one app (one connection per request, like the checks)."""

    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, *, cookies: bool = True
    ) -> Reply:
        conn = http.client.HTTPConnection(urlsplit(self.base_url).netloc, timeout=30)
        headers = {"Cookie": self.cookie_header()} if cookies and self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            reply = Reply(resp.status, resp.msg, resp.read())
        finally:
            conn.close()
        if cookies:
            self._keep(reply.headers.get_all("set-cookie") or [])
        return reply

    def _keep(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            expired = "max-age=0" in header.lower().replace(" ", "") or value in ("", '""')
            if expired:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value


class _Hidden(HTMLParser):
    """Collect the hidden inputs of the first form on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._forms = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self._forms += 1
        values = dict(attrs)
        if tag == "input" and self._forms == 1 and values.get("type") == "hidden":
            self.fields[values.get("name") or ""] = values.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    parser = _Hidden()
    parser.feed(html)
    return {name: value for name, value in parser.fields.items() if name}


@dataclass
class Credentials:
    """What wrk needs to act as the logged-in user."""

    cookie: str
    form_body: str

    def env(self) -> dict[str, str]:
        return {
            "BENCH_COOKIE": self.cookie,
            "BENCH_FORM_BODY": self.form_body,
            "BENCH_EMAIL": EMAIL,
        }


def expect(ok: bool, what: str, reply: Reply) -> None:
    if not ok:
        raise CheckFailed(f"{what}; got {reply.describe()}")


def _json(reply: Reply) -> object:
    try:
        return json.loads(reply.body)
    except ValueError:
        return None


def login(browser: Browser, stack: Stack) -> None:
    """Log in through the app's login page, as a browser would."""
    page = browser.request("GET", stack.login_path)
    expect(page.status == 200, f"GET {stack.login_path}: the login page expected", page)
    form = {**hidden_fields(page.text), stack.identifier: EMAIL, "password": PASSWORD}
    reply = browser.request("POST", stack.login_path, form)
    expect(reply.status in (302, 303), f"POST {stack.login_path}: a redirect expected", reply)


def check_anonymous(browser: Browser) -> None:
    reply = browser.request("GET", "/json", cookies=False)
    expect(reply.status == 200, "GET /json: status 200 expected", reply)
    expect(_json(reply) == {"message": "Hello, World!"}, "GET /json: the message expected", reply)
    reply = browser.request("GET", "/me", cookies=False)
    ok = reply.status in (302, 303, 401, 403) and EMAIL not in reply.text
    expect(ok, "GET /me without a session: refused (302/303/401/403) expected", reply)


def check_me(browser: Browser) -> None:
    reply = browser.request("GET", "/me")
    expect(reply.status == 200, "GET /me logged in: status 200 expected", reply)
    expect(
        reply.headers.get("content-type", "").startswith("application/json"),
        "GET /me: JSON expected",
        reply,
    )
    expect(_json(reply) == {"email": EMAIL}, f"GET /me: {{'email': {EMAIL!r}}} expected", reply)


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def prepare_shared() -> str | None:
    """Check that Redis answers and create the shared tables and user; return an error."""
    import psycopg
    import redis
    import setup_db

    try:
        redis.Redis.from_url(redis_url(), socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        return f"Redis is not ready ({redis_url()}): {exc}"
    try:
        setup_db.setup_fullstack(EMAIL, PASSWORD)
    except psycopg.Error as exc:
        return f"PostgreSQL is not ready ({setup_db.conninfo()}): {exc}".strip()
    return None


def count_rows(table: str) -> int:
    import psycopg  # the full-stack suite needs it anyway
    from setup_db import conninfo

    with psycopg.connect(conninfo(), connect_timeout=5) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


def wait_rows(table: str, expected: int) -> int:
    """Return the row count once it reaches ``expected`` (or what it is after ROW_WAIT)."""
    deadline = time.monotonic() + ROW_WAIT
    while True:
        rows = count_rows(table)
        if rows >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def settled_rows(table: str, quiet: float = 0.3, limit: float = 10.0) -> int:
    """Return the row count once it has not changed for ``quiet`` seconds.

    Requests still in flight when wrk stops are answered and committed after it exits;
    counting before they settle would credit them to the next window.
    """
    deadline = time.monotonic() + limit
    rows = count_rows(table)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = count_rows(table)
        if now == rows:
            break
        rows = now
    return rows


def check_form(browser: Browser, stack: Stack) -> str:
    """Check the form's page and its three outcomes; return the valid body wrk will send."""
    page = browser.request("GET", "/notes/new")
    expect(page.status == 200, "GET /notes/new logged in: the form expected", page)
    hidden = hidden_fields(page.text)
    expect(bool(hidden), "GET /notes/new: a hidden CSRF field expected", page)
    before = count_rows(stack.notes_table)
    reply = browser.request("POST", "/notes/new", {**hidden, **NOTE})
    expect(reply.status == 303, "POST /notes/new: 303 expected", reply)
    rows = wait_rows(stack.notes_table, before + 1)
    expect(rows == before + 1, f"POST /notes/new: one row inserted, found {rows - before}", reply)
    reply = browser.request("POST", "/notes/new", {**hidden, **INVALID_NOTE})
    ok = reply.status in (200, 400, 422)
    expect(ok, "POST /notes/new priority=9: the form redisplayed (200/400/422) expected", reply)
    reply = browser.request("POST", "/notes/new", NOTE)
    expect(
        reply.status in (400, 403), "POST /notes/new without CSRF token: 400/403 expected", reply
    )
    time.sleep(0.2)  # a wrongly accepted post would commit by now
    rows = count_rows(stack.notes_table)
    expect(rows == before + 1, f"rejected posts inserted {rows - before - 1} row(s)", reply)
    return urlencode({**hidden, **NOTE})


def run_checks(framework: str, base_url: str) -> tuple[list[str], Credentials | None]:
    """Check an app of the suite; return the failures and, when all pass, wrk's credentials."""
    stack = STACKS[framework]
    browser = Browser(base_url)
    try:
        check_anonymous(browser)
        login(browser, stack)
        check_me(browser)
        body = check_form(browser, stack)
        check_me(browser)  # the form's page did not end the session
    except CheckFailed as exc:
        return [str(exc)], None
    except Exception as exc:  # a connection, HTTP or database error: a failed check
        return [f"{type(exc).__name__}: {exc}"], None
    return [], Credentials(browser.cookie_header(), body)
