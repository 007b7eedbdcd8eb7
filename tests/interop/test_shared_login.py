"""A login made in the mounted Django or Flask app is `request.user` in trivium routes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from tests.interop import flask_login_legacy

from trivium import App
from trivium import Request
from trivium import WebSocket
from trivium.auth import Auth
from trivium.auth import CurrentUser
from trivium.auth import create_user
from trivium.db import Database
from trivium.db import Model
from trivium.db import async_url
from trivium.errors import ConfigurationError
from trivium.interop import DjangoLogin
from trivium.interop import FlaskLogin
from trivium.interop import WSGIApp
from trivium.sessions import Sessions
from trivium.stores import MemoryStore
from trivium.testing import TestClient

SECRET = "trivium-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def trivium_db(tmp_path):
    import trivium.auth  # noqa: F401 - the auth tables

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'trivium.sqlite3'}")

    async def prepare() -> None:
        await db.create_all()
        async with db.sessionmaker() as session:
            await create_user(session, email="ann@example.com", password="pw-ann-123-long")
            await create_user(session, email="bea@example.com", password="pw-bea-123-long")
            await create_user(
                session, email="off@example.com", password="pw-off-123-long", is_active=False
            )
            await session.commit()
        await db.dispose()

    anyio.run(prepare)
    return db


def build(
    trivium_db: Database,
    login_plugin: Any,
    legacy: Any,
    prefix: str,
    sessions: Sessions | None = None,
) -> App:
    app = App()
    trivium_db.init_app(app)
    if sessions is not None:
        app.install(sessions)
    auth = login_plugin.auth
    auth.init_app(app)
    app.install(login_plugin)

    @app.get("/me")
    async def me(request: Request) -> dict[str, Any]:
        user = request.user
        return {"email": user.email if user.is_authenticated else None}

    @app.get("/private")
    async def private(user: CurrentUser) -> dict[str, Any]:
        return {"id": user.id}

    @app.post("/visit")
    async def visit(request: Request) -> dict[str, int]:  # writes trivium's session
        request.session["visits"] = request.session.get("visits", 0) + 1
        return {"visits": request.session["visits"]}

    @app.post("/note")
    async def write_note(request: Request, text: str) -> dict[str, str]:
        request.session["private_note"] = text
        return {"note": text}

    @app.get("/note")
    async def read_note(request: Request) -> dict[str, Any]:
        return {"note": request.session.get("private_note")}

    @app.websocket("/ws/me")
    async def ws_me(websocket: WebSocket) -> None:
        await websocket.accept()
        user = websocket.user
        await websocket.send_json({"email": user.email if user.is_authenticated else None})
        await websocket.close()

    app.mount(prefix, WSGIApp(legacy))
    return app


def socket_user(client: TestClient, origin: str | None) -> Any:
    """The user a websocket handshake from `origin` (None: no Origin header) is given."""
    headers = {} if origin is None else {"origin": origin}
    with client.websocket_connect("/ws/me", headers=headers) as websocket:
        return websocket.receive_json()["email"]


def make_auth(db: Database) -> Auth:
    return Auth(db, secret_key=SECRET, session_store=MemoryStore())


def renamed_sessions() -> Sessions:
    """Trivium's sessions under a cookie name of their own (Flask's is `session`)."""
    return Sessions(secret_key=SECRET, store=MemoryStore(), cookie_name="trivium_session")


# --- Django ------------------------------------------------------------------


@pytest.fixture
def django_users(django_wsgi):
    from django.contrib.auth.models import User

    User.objects.filter(username__in=["ann", "off", "bob", "bea"]).delete()
    User.objects.create_user("ann", "ann@example.com", "pw-ann-123")
    User.objects.create_user("bea", "bea@example.com", "pw-bea-123")
    User.objects.create_user("off", "off@example.com", "pw-off-123")
    User.objects.create_user("bob", "bob@example.com", "pw-bob-123")  # no trivium account


@pytest.fixture
def django_app(django_wsgi, django_users, trivium_db):
    from examples.migrate_django.legacy.project import SECRET_KEY as DJANGO_SECRET

    handler, path = django_wsgi
    legacy_db = Database(f"sqlite+aiosqlite:///{path}")
    plugin = DjangoLogin(make_auth(trivium_db), secret_key=DJANGO_SECRET, legacy_db=legacy_db)
    return build(trivium_db, plugin, handler, "/dj")


def django_login(client: TestClient, username: str, password: str) -> None:
    client.get("/dj/notes/new/")
    token = client.cookies["csrftoken"]
    response = client.post(
        "/dj/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
    )
    assert response.json() == {"ok": True}


def test_django_login_is_the_trivium_user(django_app):
    with TestClient(django_app) as client:
        assert client.get("/me").json() == {"email": None}
        assert client.get("/private").status_code == 401
        django_login(client, "ann", "pw-ann-123")
        assert client.get("/dj/whoami/").json() == {"user": "ann"}
        assert client.get("/me").json() == {"email": "ann@example.com"}
        assert client.get("/private").status_code == 200


def test_django_user_without_trivium_account_stays_anonymous(django_app):
    with TestClient(django_app) as client:
        django_login(client, "bob", "pw-bob-123")
        assert client.get("/me").json() == {"email": None}


def test_inactive_trivium_user_stays_anonymous(django_app):
    with TestClient(django_app) as client:
        django_login(client, "off", "pw-off-123")
        assert client.get("/me").json() == {"email": None}


def test_django_password_change_ends_the_shared_login(django_app):
    from django.contrib.auth.models import User

    with TestClient(django_app) as client:
        django_login(client, "ann", "pw-ann-123")
        assert client.get("/me").json() == {"email": "ann@example.com"}
        ann = User.objects.get(username="ann")
        ann.set_password("a-new-password")
        ann.save()
        assert client.get("/me").json() == {"email": None}


def test_django_email_with_a_domain_in_another_case_is_the_trivium_user(django_app):
    from django.contrib.auth.models import User

    User.objects.filter(username="ann").update(email="ann@Example.COM")  # stored as typed
    with TestClient(django_app) as client:
        django_login(client, "ann", "pw-ann-123")
        assert client.get("/me").json() == {"email": "ann@example.com"}


@pytest.mark.parametrize(
    ("username", "email"),
    [
        ("mallory", "ANN@EXAMPLE.COM"),  # Django keeps the local part's case
        ("eve", "\uff41\uff4e\uff4e@example.com"),  # "ann" in full-width letters
        ("zoe", "Ann@example.com"),
    ],
)
def test_django_emails_folding_onto_a_trivium_users_are_anonymous(
    django_app, caplog, username, email
):
    from django.contrib.auth.models import User

    User.objects.filter(username=username).delete()
    User.objects.create_user(username, email, "pw-other-123")  # distinct accounts in Django
    with TestClient(django_app) as client:
        django_login(client, username, "pw-other-123")
        assert client.get("/dj/whoami/").json() == {"user": username}
        for _ in range(2):
            assert client.get("/me").json() == {"email": None}
            assert client.get("/private").status_code == 401
    warnings = [r for r in caplog.records if "matches no trivium user" in r.getMessage()]
    assert len(warnings) == 1  # once per identity, not per request
    assert warnings[0].levelname == "WARNING"


def test_django_login_survives_a_trivium_session_write(django_app):
    with TestClient(django_app) as client:
        django_login(client, "ann", "pw-ann-123")
        assert client.post("/visit", headers={"origin": "http://testserver"}).status_code == 200
        assert client.get("/dj/whoami/").json() == {"user": "ann"}
        assert client.get("/me").json() == {"email": "ann@example.com"}


def csrf_token(client: TestClient) -> str:
    return client.get("/auth/csrf").json()["csrf_token"]


def write_note(client: TestClient, text: str, token: str) -> int:
    return client.post("/note", params={"text": text}, headers={"x-csrf-token": token}).status_code


def test_another_django_user_on_the_browser_gets_a_fresh_trivium_session(django_app):
    with TestClient(django_app) as client:
        django_login(client, "ann", "pw-ann-123")
        anns_token = csrf_token(client)
        assert write_note(client, "ann's PIN is 1234", anns_token) == 200
        assert client.get("/note").json() == {"note": "ann's PIN is 1234"}
        client.post("/dj/logout/", data={"csrfmiddlewaretoken": client.cookies["csrftoken"]})
        django_login(client, "bea", "pw-bea-123")
        assert client.get("/me").json() == {"email": "bea@example.com"}
        assert client.get("/note").json() == {"note": None}
        assert write_note(client, "forged for bea", anns_token) == 403  # ann's CSRF token
        assert write_note(client, "bea's own", csrf_token(client)) == 200


def test_a_django_logout_flushes_the_trivium_session(django_app):
    with TestClient(django_app) as client:
        django_login(client, "ann", "pw-ann-123")
        assert write_note(client, "ann's", csrf_token(client)) == 200
        client.post("/dj/logout/", data={"csrfmiddlewaretoken": client.cookies["csrftoken"]})
        assert client.get("/me").json() == {"email": None}
        assert client.get("/note").json() == {"note": None}


def test_the_same_django_user_keeps_the_trivium_session(django_app):
    with TestClient(django_app) as client:
        django_login(client, "ann", "pw-ann-123")
        token = csrf_token(client)
        assert write_note(client, "kept", token) == 200
        django_login(client, "ann", "pw-ann-123")  # logging in again as ann
        assert client.get("/note").json() == {"note": "kept"}
        assert write_note(client, "still ann", token) == 200


def test_a_first_django_login_keeps_the_anonymous_data_under_a_new_csrf_secret(django_app):
    with TestClient(django_app) as client:
        client.get("/dj/notes/new/")
        anonymous_token = csrf_token(client)
        assert write_note(client, "cart: 2 books", anonymous_token) == 200
        django_login(client, "ann", "pw-ann-123")
        assert client.get("/note").json() == {"note": "cart: 2 books"}
        assert write_note(client, "planted", anonymous_token) == 403
        assert write_note(client, "ann's", csrf_token(client)) == 200


def test_forged_or_unknown_session_cookie_is_anonymous(django_app):
    with TestClient(django_app) as client:
        client.cookies.set("sessionid", "a" * 32)
        assert client.get("/me").json() == {"email": None}
        client.cookies.set("sessionid", "../../etc")
        assert client.get("/me").json() == {"email": None}


def test_tampered_session_data_is_refused(django_app, django_wsgi):
    from django.contrib.sessions.models import Session

    with TestClient(django_app) as client:
        django_login(client, "ann", "pw-ann-123")
        key = client.cookies.get("sessionid")
        row = Session.objects.get(session_key=key)
        payload, timestamp, signature = row.session_data.rsplit(":", 2)
        row.session_data = f"{payload}:{timestamp}:{signature[:-2]}xx"
        row.save()
        assert client.get("/me").json() == {"email": None}


def test_expired_django_session_is_anonymous(django_app):
    import datetime

    from django.contrib.sessions.models import Session

    with TestClient(django_app) as client:
        django_login(client, "ann", "pw-ann-123")
        key = client.cookies.get("sessionid")
        Session.objects.filter(session_key=key).update(
            expire_date=datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
        )
        assert client.get("/me").json() == {"email": None}


def test_a_django_login_never_opens_a_websocket_from_another_site(django_app):
    with TestClient(django_app) as client:
        django_login(client, "ann", "pw-ann-123")
        assert socket_user(client, "http://testserver") == "ann@example.com"
        assert socket_user(client, None) == "ann@example.com"  # not from a browser
        # Another site's page opening a socket: the browser sends the legacy cookie,
        # which must not log it in (cross-site websocket hijacking).
        assert socket_user(client, "http://evil.example") is None


# --- Flask-Login --------------------------------------------------------------


@pytest.fixture
def flask_app(tmp_path, trivium_db):
    path = tmp_path / "flask.sqlite3"
    flask_login_legacy.create_database(
        path,
        {1: "ann@example.com", 2: "bob@example.com", 3: "off@example.com", 4: "bea@example.com"},
    )
    plugin = FlaskLogin(
        make_auth(trivium_db),
        secret_key=flask_login_legacy.SECRET,
        legacy_db=Database(f"sqlite+aiosqlite:///{path}"),
    )
    legacy = flask_login_legacy.create_app(path)
    return build(trivium_db, plugin, legacy, "/old", renamed_sessions())


def test_flask_login_is_the_trivium_user(flask_app):
    with TestClient(flask_app) as client:
        assert client.get("/me").json() == {"email": None}
        assert client.post("/old/login/1").json() == {"ok": True}
        assert client.get("/old/me").json() == {"email": "ann@example.com"}
        assert client.get("/me").json() == {"email": "ann@example.com"}
        client.post("/old/logout")
        assert client.get("/me").json() == {"email": None}


def test_a_flask_login_never_opens_a_websocket_from_another_site(flask_app):
    with TestClient(flask_app) as client:
        client.post("/old/login/1")
        assert socket_user(client, "http://testserver") == "ann@example.com"
        assert socket_user(client, "http://evil.example") is None


def test_flask_email_in_another_case_is_not_the_trivium_user(tmp_path, flask_app):
    flask_login_legacy.create_database(tmp_path / "flask.sqlite3", {1: "ANN@example.com"})
    with TestClient(flask_app) as client:
        client.post("/old/login/1")
        assert client.get("/old/me").json() == {"email": "ANN@example.com"}
        assert client.get("/me").json() == {"email": None}


def test_flask_email_with_a_domain_in_another_case_is_the_trivium_user(tmp_path, flask_app):
    flask_login_legacy.create_database(tmp_path / "flask.sqlite3", {1: "ann@EXAMPLE.com"})
    with TestClient(flask_app) as client:
        client.post("/old/login/1")
        assert client.get("/me").json() == {"email": "ann@example.com"}


def test_flask_login_survives_a_trivium_session_write(flask_app):
    with TestClient(flask_app) as client:
        client.post("/old/login/1")
        assert client.post("/visit", headers={"origin": "http://testserver"}).json() == {
            "visits": 1
        }
        assert client.get("/old/me").json() == {"email": "ann@example.com"}
        assert client.get("/me").json() == {"email": "ann@example.com"}
        assert {"session", "trivium_session"} <= {cookie.name for cookie in client.cookies.jar}


def test_flask_login_reading_triviums_session_cookie_is_refused(tmp_path, trivium_db):
    plugin = FlaskLogin(  # cookie_name="session": Flask's default, and trivium's
        make_auth(trivium_db),
        secret_key=flask_login_legacy.SECRET,
        legacy_db=Database(f"sqlite+aiosqlite:///{tmp_path / 'flask.sqlite3'}"),
    )
    app = build(trivium_db, plugin, flask_login_legacy.create_app(tmp_path), "/old")
    with pytest.raises(ConfigurationError, match="cookie_name='trivium_session'") as info:
        app.build()
    assert info.value.code == "interop-cookie-clash"


def test_another_flask_user_on_the_browser_gets_a_fresh_trivium_session(flask_app):
    with TestClient(flask_app) as client:
        client.post("/old/login/1")
        anns_token = csrf_token(client)
        assert write_note(client, "ann's PIN is 1234", anns_token) == 200
        client.post("/old/logout")
        client.post("/old/login/4")
        assert client.get("/me").json() == {"email": "bea@example.com"}
        assert client.get("/note").json() == {"note": None}
        assert write_note(client, "forged for bea", anns_token) == 403


def test_flask_cookie_signed_with_another_key_is_refused(flask_app):
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("not-the-key", salt="cookie-session").dumps({"_user_id": "1"})
    with TestClient(flask_app) as client:
        client.cookies.set("session", forged)
        assert client.get("/me").json() == {"email": None}


def test_flask_user_without_trivium_account_stays_anonymous(flask_app):
    with TestClient(flask_app) as client:
        client.post("/old/login/2")
        assert client.get("/old/me").json() == {"email": "bob@example.com"}
        assert client.get("/me").json() == {"email": None}


# --- the legacy key column's type (PostgreSQL: asyncpg types its parameters) ---------


def flask_text_ids() -> Any:
    """A Flask app whose Flask-Login users have text ids (`get_id()` is the text)."""
    from flask import Flask
    from flask_login import LoginManager
    from flask_login import UserMixin
    from flask_login import login_user

    class Member(UserMixin):
        def __init__(self, member_id: str) -> None:
            self.id = member_id

    flask_app = Flask(__name__)
    flask_app.config["SECRET_KEY"] = flask_login_legacy.SECRET
    LoginManager(flask_app).user_loader(Member)

    @flask_app.post("/login/<member_id>")
    def login(member_id: str) -> dict[str, bool]:
        return {"ok": login_user(Member(member_id))}

    return flask_app


async def _postgres(url: str, *statements: str) -> None:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


KEYS = {  # key column type: ann's id, as text
    "varchar(20)": "1001",  # all digits, and still text
    "text": "1001",
    "integer": "1001",
    "bigint": "1001",
    "uuid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
}


@pytest.fixture(params=list(KEYS))
def postgres_members(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, str]]:
    """A legacy `member` table on PostgreSQL with a key of each type: (url, table, ann's id)."""
    url = os.environ.get("TRIVIUM_TEST_POSTGRES_URL", "")
    if not url:
        pytest.skip("needs TRIVIUM_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1/test)")
    name = f"member_{uuid.uuid4().hex[:8]}"
    anns_id = KEYS[request.param]
    anyio.run(
        _postgres,
        url,
        f"CREATE TABLE {name} (id {request.param} PRIMARY KEY, email text)",
        f"INSERT INTO {name} VALUES ('{anns_id}', 'ann@example.com')",
    )
    yield url, name, anns_id
    anyio.run(_postgres, url, f"DROP TABLE {name}")


@pytest.fixture
def member_app(trivium_db, postgres_members):
    url, name, _ = postgres_members
    plugin = FlaskLogin(
        make_auth(trivium_db),
        secret_key=flask_login_legacy.SECRET,
        legacy_db=Database(url),
        user_table=name,
    )
    return build(trivium_db, plugin, flask_text_ids(), "/old", renamed_sessions())


def test_a_flask_login_id_is_read_as_the_key_columns_type(member_app, postgres_members):
    with TestClient(member_app) as client:
        assert client.post(f"/old/login/{postgres_members[2]}").json() == {"ok": True}
        assert client.get("/me").json() == {"email": "ann@example.com"}


def test_an_id_no_key_of_its_type_can_hold_is_anonymous(member_app):
    with TestClient(member_app) as client:
        assert client.post("/old/login/m-7").json() == {"ok": True}
        assert client.get("/me").json() == {"email": None}


def test_shared_login_needs_the_apps_auth(trivium_db):
    plugin = FlaskLogin(
        make_auth(trivium_db), secret_key="k", legacy_db=Database("sqlite+aiosqlite://")
    )
    with pytest.raises(ConfigurationError, match="not installed") as info:
        App(plugins=[plugin])
    assert info.value.code == "interop-login"


@pytest.mark.parametrize("match", ["nickname", "password"])
def test_unknown_match_column_is_a_configuration_error(trivium_db, match):
    with pytest.raises(ConfigurationError, match="identity column") as info:
        FlaskLogin(
            make_auth(trivium_db),
            secret_key="k",
            legacy_db=Database("sqlite+aiosqlite://"),
            match=match,
        )
    assert info.value.code == "interop-login"


def test_models_are_untouched_by_the_legacy_tables():
    # The legacy tables are read through lightweight table() constructs, never mapped.
    assert "django_session" not in Model.metadata.tables
