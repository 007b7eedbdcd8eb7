"""A legacy session cookie named like trivium's is refused at start-up.

Both apps would set the one cookie, each replacing the other's session: a trivium page
writing its session (a CSRF token, a flash message) would log the user out of Flask.
"""

from __future__ import annotations

import pytest
from tests.interop.flask_legacy import create_app

from trivium import App
from trivium import Request
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.interop import DjangoLogin
from trivium.interop import Legacy
from trivium.sessions import SessionMiddleware
from trivium.sessions import Sessions
from trivium.stores import MemoryStore
from trivium.testing import TestClient

SECRET = "trivium-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def sessions(**options: str) -> Sessions:
    return Sessions(secret_key=SECRET, store=MemoryStore(), **options)


def test_a_flask_app_with_triviums_session_cookie_name_is_refused():
    app = App(plugins=[sessions(), Legacy(create_app())])
    with pytest.raises(ConfigurationError, match="SESSION_COOKIE_NAME are both named") as info:
        app.build()
    assert info.value.code == "interop-cookie-clash"


def test_the_clash_is_found_whatever_the_plugin_order():
    app = App(plugins=[Legacy(create_app()), sessions()])
    with pytest.raises(ConfigurationError) as info:
        app.build()
    assert info.value.code == "interop-cookie-clash"


def test_triviums_session_middleware_counts_too():
    app = App(plugins=[Legacy(create_app())])
    app.add_middleware(SessionMiddleware, secret_key=SECRET, cookie_name="session")
    with pytest.raises(ConfigurationError) as info:
        app.build()
    assert info.value.code == "interop-cookie-clash"


def test_a_renamed_flask_cookie_lives_next_to_triviums():
    flask_app = create_app()
    flask_app.config["SESSION_COOKIE_NAME"] = "flask_session"
    app = App(plugins=[sessions(), Legacy(flask_app)])

    @app.post("/visit")
    async def visit(request: Request) -> dict[str, int]:
        request.session["visits"] = 1
        return {"visits": 1}

    with TestClient(app) as client:
        client.post("/login", data={"user": "ann"})
        client.post("/visit", headers={"origin": "http://testserver"})
        assert client.get("/whoami").json() == {"user": "ann"}
        assert {"flask_session", "session"} <= {cookie.name for cookie in client.cookies.jar}


def test_a_django_project_with_triviums_session_cookie_name_is_refused(django_wsgi):
    handler, _ = django_wsgi
    app = App(plugins=[sessions(cookie_name="sessionid"), Legacy(handler)])
    with pytest.raises(ConfigurationError, match="Django's SESSION_COOKIE_NAME") as info:
        app.build()
    assert info.value.code == "interop-cookie-clash"


def test_django_login_reading_triviums_session_cookie_is_refused(django_wsgi):
    import trivium.auth  # noqa: F401 - the auth tables
    from trivium.auth import Auth

    db = Database("sqlite+aiosqlite://")
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    login = DjangoLogin(auth, secret_key="k", legacy_db=Database("sqlite+aiosqlite://"))
    app = App(plugins=[db, sessions(cookie_name="sessionid"), auth, login])
    with pytest.raises(ConfigurationError, match="DjangoLogin") as info:
        app.build()
    assert info.value.code == "interop-cookie-clash"


def test_django_and_trivium_defaults_do_not_clash(django_wsgi):
    handler, _ = django_wsgi
    app = App(plugins=[sessions(), Legacy(handler)])
    app.build()  # "sessionid" and "session"
