"""`Admin`: the plugin that serves the admin pages for the registered models.

`Admin(db, auth)` is installed like any battery (`admin.init_app(app)` or
`App(plugins=[db, auth, admin])`). At build time it checks every `ModelAdmin`'s options
(a `ConfigurationError` names the bad one), makes sure the app has `Templates` (it
installs a bare one when the app has none) and adds its routes under `prefix`: the
pages, the autocomplete and export endpoints, its own CSS and JS, and, unless
`login_url` points at the app's own, the auth battery's login pages under
`{prefix}/accounts`.

Every page and endpoint goes through `gate()`: anonymous users are sent to the login
page, authenticated users who are not active staff get a 403, and the user's
permission codenames are read once per request (superusers need no query). The admin
is session-only, as Django's: a request authenticated by an API token or a JWT (whose
scopes the admin could not honour, and which skips the CSRF check) counts as anonymous.

`gate()` also notes the request's `root_path` (a proxy's prefix) in a context variable,
so `url()` and `login_path()`, called from every page's code without the request, put
it in front of the paths they build.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from collections.abc import Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import quote
from urllib.parse import urlencode

from trivium.admin._meta import ModelMeta
from trivium.admin._meta import model_meta
from trivium.admin._options import ModelAdmin
from trivium.admin._options import maybe_await
from trivium.admin._pages import AdminPage
from trivium.auth import Auth
from trivium.auth import get_user_permissions
from trivium.errors import ConfigurationError
from trivium.plugins import Plugin
from trivium.responses import RedirectResponse
from trivium.templating import Templates

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.app import App
    from trivium.db import Database
    from trivium.http import Request
    from trivium.responses import Response
    from trivium.routing import BaseRoute
    from trivium.routing import Router

__all__ = ["Admin", "quote_part", "unquote_key"]

_HERE = Path(__file__).parent
_PERMS_KEY = "trivium_admin_permissions"
_ROOT: ContextVar[str] = ContextVar("trivium_admin_root_path", default="")
"""The `root_path` of the request being answered (set by `Admin.gate`)."""
# What a path segment cannot carry as it is (the ASGI server decodes `%2F` to `/` before
# routing; clients resolve `.` and `..`; browsers read `\` as `/`) becomes `~XX`, as
# Django's admin writes `_XX`: `~`, unlike `_`, is in no app label, model or field name,
# so every part of an admin URL can be quoted alike. The rest is percent-encoded.
_ESCAPED = frozenset("~/\\?#%")
_QUOTED = re.compile("~([0-9A-F]{2})")
_FORM_FIELD_SLACK = 50
"""Form fields besides the rows: CSRF token, entity tag, buttons, row totals."""


def quote_part(part: object) -> str:
    """Return `part` (a primary key) as one path segment that the router gives back whole."""
    text = str(part)
    if text in (".", ".."):  # a dot segment: clients resolve it away
        escaped = "".join(f"~{ord(char):02X}" for char in text)
    else:
        escaped = "".join(f"~{ord(char):02X}" if char in _ESCAPED else char for char in text)
    return quote(escaped, safe="~")


def unquote_key(raw: str) -> str:
    """Return the primary key that `quote_part` turned into the path segment `raw`."""
    if "~" not in raw:
        return raw
    return _QUOTED.sub(lambda found: chr(int(found.group(1), 16)), raw)


class Admin(Plugin):
    """Django-style admin pages for SQLAlchemy models.

    ```python
    admin = Admin(db, auth)
    admin.register(Post, PostAdmin)
    admin.init_app(app)  # pages under /admin
    ```

    Args:
        db: the database the models live in.
        auth: the app's `Auth` (users, permissions, login pages).
        prefix: where the pages live.
        title: the heading of every page.
        login_url: the path of the app's own login page; by default the admin serves
            the auth battery's pages under `{prefix}/accounts`.
    """

    install_hint = "Admin(db, auth).init_app(app)"

    def __init__(
        self,
        db: Database,
        auth: Auth,
        *,
        prefix: str = "/admin",
        title: str = "Administration",
        login_url: str | None = None,
    ) -> None:
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ConfigurationError(
                f"Admin(prefix={prefix!r}): a path starting with '/' and not ending with one",
                "admin-prefix",
            )
        self.db = db
        """The database."""
        self.auth = auth
        """The app's `Auth`."""
        self.prefix = prefix
        """The path the pages live under."""
        self.title = title
        """The heading of the pages."""
        self.login_url = login_url
        """The login page (`None`: the admin's own, `{prefix}/accounts/login`)."""
        self.templates: Templates | None = None
        self.audit: Any = None
        """The app's `trivium.audit.Audit`, when installed (history and log pages)."""
        self._classes: dict[type[Any], type[ModelAdmin]] = {}
        self._admins: dict[type[Any], ModelAdmin] = {}
        self._metas: dict[type[Any], ModelMeta] = {}
        self.pages: list[AdminPage] = []
        """Pages added with `add_page`, linked from the index in this order."""

    def __repr__(self) -> str:
        return f"Admin(prefix={self.prefix!r}, models={len(self._classes)})"

    def init_app(self, app: App) -> None:
        """Install the admin on `app` (`app.install(admin)`)."""
        app.install(self)

    def register(
        self, model: type[Any], admin_class: type[ModelAdmin] = ModelAdmin
    ) -> type[ModelAdmin]:
        """Register `model` with the options of `admin_class`; return `admin_class`.

        Raises:
            ConfigurationError: the model is registered already (`admin-registered`), or
                `admin_class` is not a `ModelAdmin` (`admin-option`).
        """
        if not (isinstance(admin_class, type) and issubclass(admin_class, ModelAdmin)):
            raise ConfigurationError(
                f"admin.register({model!r}, {admin_class!r}): the options must be a "
                "ModelAdmin subclass",
                "admin-option",
            )
        if model in self._classes:
            raise ConfigurationError(
                f"{getattr(model, '__name__', model)} is registered with the admin already",
                "admin-registered",
            )
        model_meta(model)  # fail now for unmapped models or composite keys
        self._classes[model] = admin_class
        return admin_class

    def add_page(self, page: AdminPage) -> None:
        """Add a page (before the app is built: in a plugin's `on_build` at the latest).

        Raises:
            ConfigurationError: another page has this path (`admin-page`).
        """
        if any(other.path == page.path for other in self.pages):
            raise ConfigurationError(f"the admin already has a page at {page.path!r}", "admin-page")
        self.pages.append(page)

    def meta_of(self, model: type[Any]) -> ModelMeta:
        """Return the admin's reading of `model`'s mapping (cached)."""
        meta = self._metas.get(model)
        if meta is None:
            meta = self._metas[model] = model_meta(model)
        return meta

    def admin_for(self, model: type[Any]) -> ModelAdmin | None:
        """Return the `ModelAdmin` of a registered model, or `None`."""
        return self._admins.get(model)

    @property
    def model_admins(self) -> list[ModelAdmin]:
        """Every registered model's admin, sorted by section and name."""
        return sorted(self._admins.values(), key=lambda a: (a.section or a.app_label, a.name))

    def find(self, app_label: str, model_name: str) -> ModelAdmin | None:
        """Return the admin of the model at `/{app_label}/{model_name}`."""
        for model_admin in self._admins.values():
            if model_admin.app_label == app_label and model_admin.model_name == model_name:
                return model_admin
        return None

    # Plugin hooks --------------------------------------------------------------------

    def on_build(self, app: App) -> None:
        """Build and check every `ModelAdmin`; find (or install) the app's templates.

        Raises:
            ConfigurationError: a `ModelAdmin` option names something the model lacks.
        """
        from trivium.admin._checks import check_admin

        if not any(plugin is self.auth for plugin in app.plugins):
            raise ConfigurationError(
                "Admin(db, auth): install the Auth on the app too (auth.init_app(app)) "
                "before the admin",
                "admin-auth",
            )
        found = app.plugins_of(Templates)
        if found:
            self.templates = found[0]
        else:
            self.templates = Templates(None)
            app.install(self.templates)
        self.audit = _find_audit(app)
        for model, admin_class in self._classes.items():
            self._admins[model] = admin_class(model, self, self.meta_of(model))
        for model_admin in self._admins.values():
            check_admin(model_admin)

    def routes(self, app: App) -> Sequence[Router | BaseRoute]:
        """The admin pages (and the login pages unless `login_url` is given)."""
        from trivium.admin._routes import build_router

        limits = app.http_config.limits
        fields = max(limits.form.max_fields, self._form_fields())
        limits = dataclasses.replace(
            limits, form=dataclasses.replace(limits.form, max_fields=fields)
        )
        routers = [build_router(self, limits)]
        if self.login_url is None and self.templates is not None:
            routers.append(
                self.auth.pages_router(
                    templates=self.templates,
                    prefix=f"{self.prefix}/accounts",
                    redirect_to=self.prefix,
                )
            )
        return routers

    def _form_fields(self) -> int:
        """The most form fields an admin page posts: its routes accept that many.

        A change list page sends a selection box, a key and the `list_editable` inputs
        per row; a change page its fields and, per inline, up to `MAX_ROWS` rows (plus the
        empty ones) of the inline's fields, a key and a "Delete" box.
        """
        from trivium.admin._inlines import MAX_ROWS

        most = 0
        for model_admin in self._admins.values():
            listed = model_admin.list_per_page * (2 + len(model_admin.list_editable))
            form = len(model_admin.editable_fields) + sum(
                (MAX_ROWS + max(inline.options.extra, 0)) * (len(inline.fields) + 2) + 1
                for inline in model_admin.inline_sets
            )
            most = max(most, listed, form)
        return most + _FORM_FIELD_SLACK

    def template_directories(self) -> Sequence[Path]:
        """The admin's templates (`admin/*.html`), after the app's own."""
        return [_HERE / "templates"]

    # Access ----------------------------------------------------------------------------

    def url(self, *parts: object, **query: Any) -> str:
        """Return the path of an admin page: `url("shop", "product", 3, "change")`.

        The request's `root_path` comes first; each part is quoted as one path segment
        (`quote_part`), so a key such as `"EU/DE"` or `"what?"` survives the trip.
        """
        path = "/".join([_ROOT.get() + self.prefix, *(quote_part(part) for part in parts)])
        return f"{path}?{urlencode(query)}" if query else path

    def login_path(self) -> str:
        """The login page's path (after the request's `root_path`)."""
        return _ROOT.get() + (self.login_url or f"{self.prefix}/accounts/login")

    async def gate(self, request: Request, session: AsyncSession) -> Response | None:
        """Refuse requests from anyone but active staff; load the user's permissions.

        Returns a response to send instead of the page (a redirect to the login page, or
        a 403), or `None` to go on. A user authenticated by an API token or a JWT rather
        than the session is sent to the login page as an anonymous one.
        """
        _ROOT.set(str(request.scope.get("root_path", "")))
        user = request.user
        if not _by_session(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            login = f"{self.login_path()}?{urlencode({'next': target})}"
            return RedirectResponse(login, status_code=303)
        if not (user.is_active and user.is_staff):
            from trivium.admin._render import forbidden

            return await forbidden(self, request, "Your account cannot use the admin site.")
        if user.is_superuser:
            perms: set[str] | None = None
        else:
            perms = await get_user_permissions(session, user)
        setattr(request.state, _PERMS_KEY, perms)
        return None

    async def user_has_perm(self, request: Request, codename: str) -> bool:
        """Whether the request's user has `codename` (read once per request by `gate`)."""
        user = request.user
        if not _by_session(request) or not user.is_active:
            return False
        if user.is_superuser:
            return True
        perms: set[str] | None = getattr(request.state, _PERMS_KEY, None)
        return perms is not None and codename in perms

    async def object_permission(self, request: Request, codename: str, obj: Any) -> bool:
        """Whether `Auth(object_permission=...)` lets the user do `codename` on `obj`."""
        hook: Callable[..., Any] | None = self.auth.object_permission
        user = request.user
        if hook is None or user.is_superuser:
            return True
        return bool(await maybe_await(hook(user, codename, obj)))


def _by_session(request: Request) -> bool:
    """Whether the request's user logged in with the session (not a token or a JWT)."""
    info = request.auth
    return (
        getattr(request.user, "is_authenticated", False)
        and info is not None
        and info.method == "session"
    )


def _find_audit(app: App) -> Any:
    """Return the app's `Audit` plugin, if `trivium.audit` is installed on it."""
    for plugin in app.plugins:
        if type(plugin).__module__.startswith("trivium.audit"):
            from trivium.audit import Audit

            if isinstance(plugin, Audit):
                return plugin
    return None
