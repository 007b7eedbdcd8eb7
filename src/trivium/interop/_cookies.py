"""Refuse, at start-up, a legacy session cookie with the name of trivium's.

A browser keeps one cookie per name (and path, and domain): when trivium's session
cookie and the legacy app's share a name (Flask's and trivium's are both `session` by
default), whichever app writes its session last replaces the other's. A trivium page
that sets a CSRF token or a flash message then logs the user out of the legacy app (and
loses Flask-WTF's token, kept in Flask's session), and the legacy app's next write logs
them out of trivium. Nothing can share the name, so the app refuses to start and says
which of the two to rename.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import ConfigurationError
from trivium.interop._wsgi import WSGIApp

if TYPE_CHECKING:
    from trivium.app import App

__all__ = ["LegacyCookie", "check_session_cookies", "legacy_session_cookie"]

LegacyCookie = tuple[str, str]
"""A legacy session cookie's name and where it is set (for the error message)."""


def legacy_session_cookie(app: Any) -> LegacyCookie | None:
    """Return the session cookie name of a Flask app or a Django project, if `app` is one.

    `app` may be the WSGI callable or the `WSGIApp` serving it. Other apps (and wrapped
    Flask apps) are not recognised: give their cookie name to `FlaskLogin(cookie_name=...)`
    or check it yourself.
    """
    wsgi = app.app if isinstance(app, WSGIApp) else app
    config = getattr(wsgi, "config", None)
    if hasattr(wsgi, "session_interface") and isinstance(config, Mapping):
        name = config.get("SESSION_COOKIE_NAME")
        if isinstance(name, str):
            return name, "the Flask app's SESSION_COOKIE_NAME"
    elif type(wsgi).__module__.startswith("django."):
        conf = sys.modules.get("django.conf")  # a Django handler: Django is imported
        settings = getattr(conf, "settings", None)
        if settings is not None and settings.configured:
            return str(settings.SESSION_COOKIE_NAME), "Django's SESSION_COOKIE_NAME"
    return None


def check_session_cookies(app: App, legacy: Iterable[LegacyCookie | None]) -> None:
    """Raise when a `legacy` session cookie has the name of the app's trivium session cookie.

    Call once every plugin is set up (`Auth` installs its `Sessions` while the app is
    built).

    Raises:
        ConfigurationError: the names clash (`interop-cookie-clash`).
    """
    from trivium.sessions import SessionMiddleware
    from trivium.sessions import Sessions

    ours = {plugin.cookie_name for plugin in app.plugins_of(Sessions)}
    ours.update(
        str(entry.kwargs.get("cookie_name", "session"))
        for entry in app.middleware_of(SessionMiddleware)
    )
    for found in legacy:
        if found is not None and found[0] in ours:
            name, where = found
            raise ConfigurationError(
                f"trivium's session cookie and {where} are both named {name!r}, so each app "
                "would overwrite the other's session and log users out of both; rename one: "
                "install Sessions(secret_key=..., cookie_name='trivium_session') with Auth, "
                "or change the legacy app's cookie name (and the shared login's cookie_name)",
                "interop-cookie-clash",
            )
