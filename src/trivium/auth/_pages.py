"""Server-rendered auth pages: log in and out, change or reset a password, sign up.

`pages_router(auth, templates=...)` returns a router of HTML pages next to the JSON
views, built on the same `Auth` methods (`authenticate`, `login`, `logout`, the login
throttle, the reset tokens, the mailer). The templates ship in this package under
`auth/` and are found after the app's own, so an app replaces any page (or only
`auth/base.html`, the layout) with a file of the same name in its template directory.

Forms follow the usual browser round trip: an invalid form is drawn again with its
errors and what was typed (never passwords) and status 422; success answers 303 to the
next page with a flash message. The reset mail is sent after the response, so the time
the answer takes does not tell whether the address belongs to an account.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar
from urllib.parse import urlencode
from urllib.parse import urlsplit

from pydantic import BaseModel

from trivium.auth._forms import LoginForm
from trivium.auth._forms import PasswordChangeForm
from trivium.auth._forms import PasswordResetForm
from trivium.auth._forms import SetPasswordForm
from trivium.auth._forms import SignupForm
from trivium.auth._forms import add_new_password_errors
from trivium.auth._forms import change_password
from trivium.auth._forms import create_account
from trivium.auth._mail import build_message
from trivium.auth._models import get_user_by_identifier
from trivium.auth._resets import check_reset_token
from trivium.auth._resets import make_reset_token
from trivium.auth._throttling import throttle_login
from trivium.auth._validators import DEFAULT_VALIDATORS
from trivium.auth._validators import password_help_texts
from trivium.background import BackgroundTask
from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.forms import BoundForm
from trivium.forms import FormRenderer
from trivium.forms import bind
from trivium.forms import empty
from trivium.http import Request
from trivium.responses import HTMLResponse
from trivium.responses import RedirectResponse
from trivium.routing import Router
from trivium.templating import Templates
from trivium.templating import flash

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.auth._auth import Auth

__all__ = ["RESET_SESSION_KEY", "pages_router", "safe_next"]

M = TypeVar("M", bound=BaseModel)

RESET_SESSION_KEY = "_auth_reset_token"
"""The session key holding a reset token between the link and the new-password form."""
_PAGE: dict[str, Any] = {"include_in_schema": False}  # HTML pages stay out of /docs
_NO_STORE = {"cache-control": "no-store"}
_PACKAGE = "trivium.auth"
_TEMPLATES = (
    *(
        f"auth/{name}.html"
        for name in (
            "base",
            "login",
            "logout",
            "password_change",
            "password_help",
            "password_reset",
            "password_reset_confirm",
            "password_reset_sent",
            "signup",
        )
    ),
    "auth/password_reset_email.txt",
    "auth/password_reset_subject.txt",
)
_BAD_LOGIN = "Please enter a correct email or user name and password."


def safe_next(target: str | None) -> str | None:
    """Return `target` if it is a path on this site, else `None` (no open redirects).

    Protocol-relative (`//evil.example`) and absolute URLs are refused, and so are paths
    with a backslash or a control character, which browsers read as `/` or drop (a tab
    after the first slash turns the path into `//evil.example`).
    """
    if not target or len(target) > 2000 or not target.startswith("/"):
        return None
    if target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@dataclasses.dataclass(frozen=True, slots=True)
class _Pages:
    """What every page handler needs: the `Auth`, the templates and the options."""

    auth: Auth
    templates: Templates
    renderer: FormRenderer
    prefix: str
    redirect_to: str
    base_url: str | None
    password_help: tuple[str, ...]

    def urls(self, request: Request) -> dict[str, str]:
        """Return the paths of the pages (with the app's root path; `""` for no sign-up)."""
        base = request.scope.get("root_path", "") + self.prefix
        return {
            "login": f"{base}/login",
            "logout": f"{base}/logout",
            "password_change": f"{base}/password/change",
            "password_reset": f"{base}/password/reset",
            "password_reset_sent": f"{base}/password/reset/sent",
            "password_reset_confirm": f"{base}/password/reset/confirm",
            "signup": f"{base}/signup" if self.auth.signup else "",
        }

    async def page(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """Render `auth/<name>.html`; pages are never cached (they carry CSRF tokens)."""
        variables = {"auth_urls": self.urls(request), "password_help": self.password_help}
        return await self.templates.render(
            request,
            f"auth/{name}.html",
            {**variables, **(context or {})},
            status_code=status,
            headers={**_NO_STORE, **(headers or {})},
        )

    def empty(self, model: type[M], request: Request) -> BoundForm[M]:
        """Return the unbound form `model` for `request`."""
        return empty(model, request=request, renderer=self.renderer)

    async def bind(self, model: type[M], request: Request) -> BoundForm[M]:
        """Return the form `model` bound to what `request` posted."""
        return bind(model, await request.form(), request=request, renderer=self.renderer)

    def redirect(self, url: str) -> RedirectResponse:
        """Return a 303 to `url` (after a successful POST)."""
        return RedirectResponse(url, 303)

    def home(self, request: Request) -> str:
        """Return `redirect_to`, after the app's root path when it is a path."""
        if self.redirect_to.startswith("/") and not self.redirect_to.startswith("//"):
            root: str = request.scope.get("root_path", "")
            return root + self.redirect_to
        return self.redirect_to

    def to_login(self, request: Request) -> RedirectResponse:
        """Send an anonymous visitor to the login page, back here afterwards."""
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return self.redirect(f"{self.urls(request)['login']}?{urlencode({'next': target})}")

    def transaction(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        """Return a database session in a transaction committed on success."""
        return self.auth.transaction()


def pages_router(  # noqa: PLR0913 - keyword-only options of the pages
    auth: Auth,
    *,
    templates: Templates,
    prefix: str = "/accounts",
    redirect_to: str = "/",
    base_url: str | None = None,
    renderer: FormRenderer | None = None,
) -> Router:
    """Return the HTML auth pages under `prefix` (include it in the app).

    Args:
        auth: the app's `Auth` (its sessions, throttle, mailer and validators are used).
        templates: the app's `Templates`; trivium.auth's templates are added after its
            own folders when it does not list `packages=["trivium.auth"]` already.
        prefix: where the pages live (`/accounts/login`, `/accounts/logout`...).
        redirect_to: where to go after logging in without `?next=`, signing up or
            changing the password.
        base_url: the scheme and host put in reset links (`"https://example.com"`);
            default: `Auth(site_url=...)`, else the request's own, only when
            `TrustedHostMiddleware` checked its `Host` header (otherwise no link is
            sent and the error is logged).
        renderer: draws the forms (default: one sharing `templates`' loader, so the
            app's `forms/*.html` overrides apply).

    Raises:
        ConfigurationError: the templates' Jinja loader was replaced by one that cannot
            load the pages' templates (`auth-pages-templates`).
    """
    _add_package_templates(templates)
    validators = auth.password_validators or DEFAULT_VALIDATORS
    pages = _Pages(
        auth=auth,
        templates=templates,
        renderer=renderer or FormRenderer(environment=templates.environment),
        prefix=prefix.rstrip("/"),
        redirect_to=redirect_to,
        base_url=base_url.rstrip("/") if base_url else None,
        password_help=tuple(password_help_texts(validators)),
    )
    if not auth.login_url_chosen:
        # The first pages made: the app's own, not the admin's made later at build.
        auth.login_url = f"{pages.prefix}/login"
        auth.login_url_chosen = True
    router = Router(prefix=pages.prefix)
    _login_routes(router, pages)
    _password_change_routes(router, pages)
    _reset_routes(router, pages)
    if auth.signup:
        _signup_routes(router, pages)
    return router


def _add_package_templates(templates: Templates) -> None:
    """Search trivium.auth's templates after the app's own, unless they already are."""
    import jinja2

    loader = templates.environment.loader
    if isinstance(loader, jinja2.ChoiceLoader):
        if not any(
            isinstance(item, jinja2.PackageLoader) and item.package_name == _PACKAGE
            for item in loader.loaders
        ):
            loader.loaders = [*loader.loaders, jinja2.PackageLoader(_PACKAGE, "templates")]
        return
    names = loader.list_templates() if loader is not None else []
    missing = sorted(set(_TEMPLATES) - set(names))
    if missing:
        raise ConfigurationError(
            f"the auth pages need the templates {', '.join(missing)}: create "
            'Templates(..., packages=["trivium.auth"])',
            "auth-pages-templates",
        )


# Log in and out ----------------------------------------------------------------------


def _login_routes(router: Router, pages: _Pages) -> None:
    @router.get("/login", name="auth_login", **_PAGE)
    async def login_page(request: Request) -> HTMLResponse:
        """Show the login form."""
        form = pages.empty(LoginForm, request)
        return await _login_page(pages, request, form)

    @router.post("/login", name="auth_login", **_PAGE)
    async def log_in(request: Request) -> HTMLResponse | RedirectResponse:
        """Log in, then go to `?next=` (a local path) or the default page."""
        return await _log_in(pages, request)

    @router.get("/logout", name="auth_logout", **_PAGE)
    async def logout_page(request: Request) -> HTMLResponse:
        """Ask to confirm: logging out changes state, so it takes a POST with CSRF."""
        return await pages.page(request, "logout")

    @router.post("/logout", name="auth_logout", **_PAGE)
    async def log_out(request: Request) -> RedirectResponse:
        """Log out and go to the login page."""
        await pages.auth.logout(request)
        flash(request, "You are logged out.", "info")
        return pages.redirect(pages.urls(request)["login"])


async def _login_page(
    pages: _Pages,
    request: Request,
    form: BoundForm[LoginForm],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    target = safe_next(request.query_params.get("next"))
    return await pages.page(request, "login", {"form": form, "next": target}, status, headers)


async def _log_in(pages: _Pages, request: Request) -> HTMLResponse | RedirectResponse:
    auth = pages.auth
    form = await pages.bind(LoginForm, request)
    if not form.is_valid:
        return await _login_page(pages, request, form, 422)
    identifier, password = form.data.identifier, form.data.password
    try:
        await throttle_login(auth, request, identifier)
    except HTTPException as exc:
        form.add_error(None, "Too many login attempts. Wait a few minutes and try again.")
        return await _login_page(pages, request, form, exc.status_code, exc.headers)
    async with pages.transaction() as session:
        user = await auth.authenticate(session, identifier, password)
        if user is not None:
            await auth.login(request, user, session)
    if user is None:
        form.add_error(None, _BAD_LOGIN)
        return await _login_page(pages, request, form, 422)
    await auth.reset_login_throttle(identifier)
    flash(request, "You are logged in.", "success")
    return pages.redirect(safe_next(request.query_params.get("next")) or pages.home(request))


# Password change ---------------------------------------------------------------------


def _password_change_routes(router: Router, pages: _Pages) -> None:
    @router.get("/password/change", name="auth_password_change", **_PAGE)
    async def password_change_page(request: Request) -> HTMLResponse | RedirectResponse:
        """Show the password change form (logged-in users; others go to the login page)."""
        if not request.user.is_authenticated:
            return pages.to_login(request)
        form = pages.empty(PasswordChangeForm, request)
        return await pages.page(request, "password_change", {"form": form})

    @router.post("/password/change", name="auth_password_change", **_PAGE)
    async def submit_password_change(request: Request) -> HTMLResponse | RedirectResponse:
        """Change the password; other sessions are logged out, this one stays."""
        if not request.user.is_authenticated:
            return pages.to_login(request)
        form = await pages.bind(PasswordChangeForm, request)
        if form.is_valid and await change_password(pages.auth, request, form):
            flash(request, "Your password was changed.", "success")
            return pages.redirect(pages.home(request))
        return await pages.page(request, "password_change", {"form": form}, 422)


# Password reset ----------------------------------------------------------------------


def _reset_routes(router: Router, pages: _Pages) -> None:
    @router.get("/password/reset", name="auth_password_reset", **_PAGE)
    async def password_reset_page(request: Request) -> HTMLResponse:
        """Show the form asking for the account's email address."""
        form = pages.empty(PasswordResetForm, request)
        return await pages.page(request, "password_reset", {"form": form})

    @router.post("/password/reset", name="auth_password_reset", **_PAGE)
    async def reset_password(request: Request) -> HTMLResponse | RedirectResponse:
        """Email a reset link if an active account has this address; the answer is the same."""
        form = await pages.bind(PasswordResetForm, request)
        if not form.is_valid:
            return await pages.page(request, "password_reset", {"form": form}, 422)
        task = BackgroundTask(_send_reset_mail, pages, request, form.data.email)
        url = pages.urls(request)["password_reset_sent"]
        return RedirectResponse(url, 303, background=task)

    @router.get("/password/reset/sent", name="auth_password_reset_sent", **_PAGE)
    async def password_reset_sent(request: Request) -> HTMLResponse:
        """Say to check the mailbox."""
        return await pages.page(request, "password_reset_sent")

    @router.get("/password/reset/confirm", name="auth_password_reset_confirm", **_PAGE)
    async def password_reset_confirm_page(request: Request) -> HTMLResponse | RedirectResponse:
        """Take the token from the link into the session, then show the new-password form."""
        token = request.query_params.get("token")
        if token is not None:
            # Out of the address bar, so it leaks neither in Referer nor in the history.
            request.session[RESET_SESSION_KEY] = token[:1024]
            return pages.redirect(pages.urls(request)["password_reset_confirm"])
        async with pages.transaction() as session:
            user = await _reset_user(pages, request, session)
        if user is None:
            return await pages.page(request, "password_reset_confirm", {"form": None}, 400)
        form = pages.empty(SetPasswordForm, request)
        return await pages.page(request, "password_reset_confirm", {"form": form})

    @router.post("/password/reset/confirm", name="auth_password_reset_confirm", **_PAGE)
    async def confirm_password_reset(request: Request) -> HTMLResponse | RedirectResponse:
        """Set the new password; the link then stops working."""
        return await _confirm_reset(pages, request)


async def _reset_user(
    pages: _Pages, request: Request, session: AsyncSession, *, claim: bool = False
) -> Any:
    token = request.session.get(RESET_SESSION_KEY)
    if not isinstance(token, str):
        return None
    return await check_reset_token(pages.auth, session, token, claim=claim)


async def _confirm_reset(pages: _Pages, request: Request) -> HTMLResponse | RedirectResponse:
    form = await pages.bind(SetPasswordForm, request)
    async with pages.transaction() as session:
        user = await _reset_user(pages, request, session, claim=form.is_valid)
        if user is None:
            return await pages.page(request, "password_reset_confirm", {"form": None}, 400)
        if form.is_valid:
            new = add_new_password_errors(form, user, pages.auth.password_validators)
            if new is not None:
                await pages.auth.set_password(session, user, new)
    if not form.is_valid:
        return await pages.page(request, "password_reset_confirm", {"form": form}, 422)
    request.session.pop(RESET_SESSION_KEY, None)
    flash(request, "Your password was set. You can log in with it now.", "success")
    return pages.redirect(pages.urls(request)["login"])


async def _send_reset_mail(pages: _Pages, request: Request, email: str) -> None:
    """Email a reset link to the active user with this address, if there is one."""
    auth = pages.auth
    async with auth.db.sessionmaker() as session:
        user = await get_user_by_identifier(session, email, model=auth.user_model)
    if user is None or not user.is_active or not user.email:
        return
    base = pages.base_url or auth.link_base(request)
    if base is None:  # the Host header is not checked: never put it in a link
        return
    token = make_reset_token(auth, user)
    path = pages.urls(request)["password_reset_confirm"]
    context = {
        "user": user,
        "link": f"{base}{path}?{urlencode({'token': token})}",
        "minutes": auth.reset_max_age // 60,
    }
    render = pages.templates.render_string
    subject = await render(request, "auth/password_reset_subject.txt", context)
    body = await render(request, "auth/password_reset_email.txt", context)
    message = build_message(
        to=user.email,
        subject=" ".join(subject.split()),
        body=body,
        sender=auth.mail_from,
        secrets=[token],
    )
    await auth.mail.send(message)


# Sign-up -----------------------------------------------------------------------------


def _signup_routes(router: Router, pages: _Pages) -> None:
    @router.get("/signup", name="auth_signup", **_PAGE)
    async def signup_page(request: Request) -> HTMLResponse:
        """Show the sign-up form."""
        form = pages.empty(SignupForm, request)
        return await pages.page(request, "signup", {"form": form})

    @router.post("/signup", name="auth_signup", **_PAGE)
    async def sign_up(request: Request) -> HTMLResponse | RedirectResponse:
        """Create an account (never staff), log it in and go to the default page."""
        form = await pages.bind(SignupForm, request)
        if form.is_valid and await create_account(pages.auth, request, form):
            flash(request, "Welcome! Your account is ready.", "success")
            return pages.redirect(pages.home(request))
        return await pages.page(request, "signup", {"form": form}, 422)
