"""The full-stack scenarios as a bare RSGI app: the limit for a logged-in request.

Everything by hand, with the same data as the framework apps: the session is one Redis
``GET`` (redis.asyncio) of a JSON record named by an opaque cookie, the user one
asyncpg query on a pooled connection (asyncpg prepares and caches the statement per
connection), the CSRF token a secret of the session compared in constant time, the form
parsed with ``parse_qsl`` and validated by hand, the row inserted in autocommit.
Users are the shared ``app_user`` table (Argon2id hashes), created by bench/setup_db.py.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import secrets
from html import escape
from urllib.parse import parse_qsl

import asyncpg
import orjson
import redis.asyncio as redis
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

DATABASE_URL = os.environ.get("BENCH_RAW_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
COOKIE = "sid"
SESSION_PREFIX = "bench:raw:session:"
SESSION_TTL = 14 * 24 * 3600
JSON_HEADERS = [("content-type", "application/json")]
HTML_HEADERS = [("content-type", "text/html; charset=utf-8")]
HELLO_JSON = orjson.dumps({"message": "Hello, World!"})
SCHEMA = "bench_fullstack"  # created by bench/setup_db.py
USER_EMAIL = f"SELECT email FROM {SCHEMA}.app_user WHERE id = $1 AND is_active"
USER_LOGIN = f"SELECT id, password_hash FROM {SCHEMA}.app_user WHERE email = $1 AND is_active"
INSERT_NOTE = (
    f"INSERT INTO {SCHEMA}.raw_note (user_id, title, body, priority) VALUES ($1, $2, $3, $4)"
)
LOGIN_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in</title></head>'
    b'<body><form method="post" action="/login"><input type="email" name="email">'
    b'<input type="password" name="password"><button>Log in</button></form></body></html>'
)
NOTE_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>New note</title></head>'
    '<body><h1>New note for {email}</h1><form method="post" action="/notes/new">'
    '<input type="hidden" name="csrf_token" value="{token}">'
    '<input name="title" maxlength="200" required><textarea name="body"></textarea>'
    '<input type="number" name="priority" min="1" max="5" value="3"><button>Save</button>'
    "</form></body></html>"
)


class Invalid(Exception):
    """A form field failed validation."""


def session_id(cookie_header: str | None) -> str | None:
    """Return the session cookie's value from a Cookie header."""
    for part in (cookie_header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


def clean_note(form: dict[str, str]) -> tuple[str, str, int]:
    """Validate title (1..200), body (..2000) and priority (1..5, default 3)."""
    title, body = form.get("title", "").strip(), form.get("body", "")
    if not 1 <= len(title) <= 200 or len(body) > 2000:
        raise Invalid
    raw = form.get("priority", "3").strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 5:
        raise Invalid
    return title, body, int(raw)


class App:
    """An RSGI application holding its connection pool and Redis client."""

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        self.redis: redis.Redis | None = None
        self.hasher = PasswordHasher()
        self._lock: asyncio.Lock | None = None

    async def _connect(self) -> asyncpg.Pool:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.pool is None:
                self.redis = redis.Redis.from_url(REDIS_URL)
                self.pool = await asyncpg.create_pool(DATABASE_URL, min_size=16, max_size=16)
        return self.pool

    async def session(self, scope) -> dict | None:
        sid = session_id(scope.headers.get("cookie"))
        raw = await self.redis.get(SESSION_PREFIX + sid) if sid else None
        return orjson.loads(raw) if raw else None

    async def __rsgi__(self, scope, proto) -> None:
        if scope.proto != "http":
            return
        path, method = scope.path, scope.method
        if path == "/json" and method == "GET":
            proto.response_bytes(200, JSON_HEADERS, HELLO_JSON)
            return
        pool = self.pool or await self._connect()
        if path == "/me" and method == "GET":
            await self.me(scope, proto, pool)
        elif path == "/notes/new" and method in ("GET", "POST"):
            await self.notes(scope, proto, pool)
        elif path == "/login" and method == "GET":
            proto.response_bytes(200, HTML_HEADERS, LOGIN_PAGE)
        elif path == "/login" and method == "POST":
            await self.login(proto, pool)
        else:
            proto.response_bytes(404, JSON_HEADERS, b'{"detail":"Not Found"}')

    async def me(self, scope, proto, pool: asyncpg.Pool) -> None:
        session = await self.session(scope)
        email = await pool.fetchval(USER_EMAIL, session["user_id"]) if session else None
        if email is None:
            proto.response_bytes(401, JSON_HEADERS, b'{"detail":"Not authenticated"}')
            return
        proto.response_bytes(200, JSON_HEADERS, orjson.dumps({"email": email}))

    async def notes(self, scope, proto, pool: asyncpg.Pool) -> None:
        session = await self.session(scope)
        email = await pool.fetchval(USER_EMAIL, session["user_id"]) if session else None
        if email is None:
            proto.response_bytes(401, JSON_HEADERS, b'{"detail":"Not authenticated"}')
            return
        if scope.method == "GET":
            page = NOTE_PAGE.format(email=escape(email), token=session["csrf"])
            proto.response_str(200, HTML_HEADERS, page)
            return
        form = dict(parse_qsl((await proto()).decode("utf-8", "replace")))
        if not hmac.compare_digest(form.get("csrf_token", "").encode(), session["csrf"].encode()):
            proto.response_bytes(403, JSON_HEADERS, b'{"detail":"CSRF token missing or incorrect"}')
            return
        try:
            title, body, priority = clean_note(form)
        except Invalid:
            proto.response_bytes(422, JSON_HEADERS, b'{"detail":"invalid note"}')
            return
        await pool.execute(INSERT_NOTE, session["user_id"], title, body, priority)
        proto.response_empty(303, [("location", "/notes/new")])

    async def login(self, proto, pool: asyncpg.Pool) -> None:
        form = dict(parse_qsl((await proto()).decode("utf-8", "replace")))
        row = await pool.fetchrow(USER_LOGIN, form.get("email", ""))
        try:
            ok = row is not None and self.hasher.verify(
                row["password_hash"], form.get("password", "")
            )
        except VerificationError:
            ok = False
        if not ok:
            proto.response_bytes(401, HTML_HEADERS, LOGIN_PAGE)
            return
        sid = secrets.token_urlsafe(32)
        record = orjson.dumps({"user_id": row["id"], "csrf": secrets.token_urlsafe(32)})
        await self.redis.set(SESSION_PREFIX + sid, record, ex=SESSION_TTL)
        cookie = f"{COOKIE}={sid}; Max-Age={SESSION_TTL}; Path=/; HttpOnly; SameSite=Lax"
        proto.response_empty(303, [("location", "/notes/new"), ("set-cookie", cookie)])


app = App()
