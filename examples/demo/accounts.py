"""Log in and out with HTML pages, on `trivium.auth`'s session login.

Page handlers depend on `trivium.auth.LoginRequired`: an anonymous visitor is sent to
this login page (303, `Auth(login_url="/login")`) with `?next=` set to where they were
going, instead of getting the JSON 401 that `trivium.auth.require_user` gives API clients.
"""

from __future__ import annotations

from typing import Annotated
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from examples.demo.config import DEMO_EMAIL
from examples.demo.config import DEMO_PASSWORD
from examples.demo.config import Session
from examples.demo.forms import LoginForm
from trivium import HTTPException
from trivium import Query
from trivium import Request
from trivium import Router
from trivium.auth import create_user
from trivium.auth import get_auth
from trivium.auth import get_user_by_identifier
from trivium.responses import HTMLResponse
from trivium.responses import RedirectResponse
from trivium.templating import flash
from trivium.templating import render

router = Router()
PAGE: dict[str, Any] = {"include_in_schema": False}  # HTML pages stay out of /docs


def _safe_next(target: str | None) -> str:
    # Only local paths: `?next=https://evil.example` must not become an open redirect.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/todos"


async def _page(request: Request, form: Any, target: str, status: int = 200) -> HTMLResponse:
    context = {"form": form, "next": target, "demo_email": DEMO_EMAIL}
    return await render(request, "accounts/login.html", context, status_code=status)


@router.get("/login", name="log_in", **PAGE)
async def login_page(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> HTMLResponse:
    form = LoginForm.empty(request=request, initial={"email": DEMO_EMAIL})
    return await _page(request, form, _safe_next(next))


@router.post("/login", **PAGE)
async def log_in(
    request: Request,
    session: Session,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> HTMLResponse | RedirectResponse:
    form = await LoginForm.from_request(request)
    target = _safe_next(next)
    if not form.is_valid:
        return await _page(request, form, target, 422)
    auth = get_auth(request)
    try:
        # Counted before the password is checked: five wrong ones lock the account for a
        # while, as on trivium.auth's own login views (docs/auth.md, login throttling).
        await auth.throttle_login(request, form.data.email)
    except HTTPException as refused:
        form.add_error(None, "Too many login attempts; try again in a few minutes.")
        page = await _page(request, form, target, refused.status_code)
        page.headers.update(refused.headers or {})
        return page
    user = await auth.authenticate(session, form.data.email, form.data.password)
    if user is None:
        form.add_error(None, "That e-mail address and password do not match.")
        return await _page(request, form, target, 422)
    await auth.login(request, user, session)
    # Committed first: on SQLite the counters' store waits for the login's write.
    await session.commit()
    await auth.reset_login_throttle(form.data.email)
    flash(request, f"Welcome, {user.identifier}.", "success")
    return RedirectResponse(target, 303)


@router.post("/logout", name="log_out", **PAGE)
async def log_out(request: Request) -> RedirectResponse:
    await get_auth(request).logout(request)
    flash(request, "You are logged out.", "info")
    return RedirectResponse(request.app.url_path_for("index"), 303)


async def ensure_demo_user(session: AsyncSession) -> None:
    """Create `demo@example.com` with the documented password unless it exists.

    The demo user is staff and superuser, so `/admin` shows everything.
    """
    user = await get_user_by_identifier(session, DEMO_EMAIL)
    if user is None:
        user = await create_user(session, email=DEMO_EMAIL, password=DEMO_PASSWORD)
    user.is_staff = user.is_superuser = True
