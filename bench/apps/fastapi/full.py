"""The full-stack scenarios with FastAPI, the usual way: dependencies, no middleware.

A login sets an opaque session cookie; the session (user id and CSRF secret) lives in
Redis (redis.asyncio), and a `current_user` dependency reads it and loads the user with
SQLAlchemy 2 async + asyncpg. Form posts carry the session's CSRF token in a hidden field,
compared by hand. Users are the shared `app_user` table (Argon2id hashes), created by
bench/setup_db.py.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated
from typing import Any

import redis.asyncio as redis
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from fastapi import Depends
from fastapi import FastAPI
from fastapi import Form
from fastapi import HTTPException
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import ForeignKey
from sqlalchemy import MetaData
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

DATABASE_URL = os.environ.get(
    "BENCH_ASYNC_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
COOKIE = "session_id"
SESSION_PREFIX = "bench:fastapi:session:"
SESSION_TTL = 14 * 24 * 3600
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
hasher = PasswordHasher()


class Base(DeclarativeBase):
    metadata = MetaData(schema="bench_fullstack")  # created by bench/setup_db.py


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]
    password_hash: Mapped[str]
    is_active: Mapped[bool]


class Note(Base):
    __tablename__ = "fastapi_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("bench_fullstack.app_user.id"))
    title: Mapped[str]
    body: Mapped[str]
    priority: Mapped[int]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_async_engine(DATABASE_URL, pool_size=16, max_overflow=0)
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    app.state.redis = redis.Redis.from_url(REDIS_URL)
    yield
    await app.state.redis.aclose()
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_db)]


async def get_session(request: Request) -> dict[str, Any] | None:
    """Return the Redis session named by the cookie, or None."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    raw = await request.app.state.redis.get(SESSION_PREFIX + session_id)
    return json.loads(raw) if raw else None


SessionData = Annotated[dict[str, Any] | None, Depends(get_session)]


async def current_user(session: SessionData, db: DbSession) -> User:
    user = await db.get(User, session["user_id"]) if session else None
    if user is None or not user.is_active:
        raise HTTPException(401, "Not authenticated", {"WWW-Authenticate": "Session"})
    return user


CurrentUser = Annotated[User, Depends(current_user)]


@app.get("/json")
async def json_message() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"error": None})


@app.post("/login", response_model=None)
async def login(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> RedirectResponse | HTMLResponse:
    user = await db.scalar(select(User).where(User.email == email))
    try:
        ok = user is not None and user.is_active
        ok = ok and await run_in_threadpool(hasher.verify, user.password_hash, password)
    except VerificationError:
        ok = False
    if not ok:
        context = {"error": "Invalid email or password."}
        return templates.TemplateResponse(request, "login.html", context, status_code=401)
    session_id = secrets.token_urlsafe(32)
    data = {"user_id": user.id, "csrf": secrets.token_urlsafe(32)}
    await request.app.state.redis.set(SESSION_PREFIX + session_id, json.dumps(data), ex=SESSION_TTL)
    response = RedirectResponse("/notes/new", 303)
    response.set_cookie(COOKIE, session_id, max_age=SESSION_TTL, httponly=True, samesite="lax")
    return response


@app.get("/me")
async def me(user: CurrentUser) -> dict[str, str]:
    return {"email": user.email}


@app.get("/notes/new", response_class=HTMLResponse)
async def new_note(request: Request, user: CurrentUser, session: SessionData) -> HTMLResponse:
    context = {"user": user, "csrf_token": session["csrf"]}
    return templates.TemplateResponse(request, "note_form.html", context)


@app.post("/notes/new")
async def create_note(  # noqa: PLR0913 - FastAPI takes each form field as a parameter
    user: CurrentUser,
    session: SessionData,
    db: DbSession,
    title: Annotated[str, Form(min_length=1, max_length=200)],
    body: Annotated[str, Form(max_length=2000)] = "",
    priority: Annotated[int, Form(ge=1, le=5)] = 3,
    csrf_token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    if not hmac.compare_digest(csrf_token.encode(), session["csrf"].encode()):
        raise HTTPException(403, "CSRF token missing or incorrect")
    db.add(Note(user_id=user.id, title=title, body=body, priority=priority))
    await db.commit()
    return RedirectResponse("/notes/new", 303)
