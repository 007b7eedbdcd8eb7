"""Page guards: `login_required` redirects to the login page, page refusals are HTML 403s."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from typing import Any

import pytest
from tests.auth.authapp import add_user
from tests.auth.authapp import make_app
from tests.auth.test_pages import client_for
from tests.auth.test_pages import log_in
from tests.auth.test_pages import make_pages_app

from trivium import App
from trivium import Depends
from trivium.auth import LoginRequired
from trivium.auth import pages_router
from trivium.auth import require_permission
from trivium.auth import require_staff
from trivium.db import Database
from trivium.templating import Templates
from trivium.testing import TestClient

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def with_pages(app: App) -> App:
    @app.get("/page")
    async def page(user: LoginRequired) -> str:
        return str(user.email)

    @app.get("/staff-page")
    async def staff(user: Annotated[Any, Depends(require_staff.for_pages())]) -> str:
        return str(user.email)

    @app.get("/refund")
    async def refund(
        user: Annotated[Any, Depends(require_permission("shop.refund", page=True))],
    ) -> str:
        return str(user.email)

    @app.get("/api/staff")
    async def api_staff(user: Annotated[Any, Depends(require_staff)]) -> str:
        return str(user.email)

    return app


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/page", "/accounts/login?next=/page"),
        ("/page?tab=2&x=%2F", "/accounts/login?next=/page%3Ftab%3D2%26x%3D%252F"),
        ("/staff-page", "/accounts/login?next=/staff-page"),
    ],
)
def test_anonymous_visitors_are_sent_to_the_login_page(
    db: Database, path: str, location: str
) -> None:
    with client_for(with_pages(make_pages_app(db))) as client:
        response = client.get(path, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == location


def test_the_next_parameter_brings_the_user_back(db: Database) -> None:
    add_user(db, email="ada@example.com")
    with client_for(with_pages(make_pages_app(db))) as client:
        login = client.get("/page").headers["location"]
        response = log_in(client, "ada@example.com", url=login)
        assert (response.status_code, response.headers["location"]) == (303, "/page")
        assert client.get("/page").json() == "ada@example.com"


def test_a_path_that_would_leave_the_site_is_not_put_in_next(db: Database) -> None:
    with client_for(with_pages(make_pages_app(db))) as client:
        response = client.get("//evil.example/page")
    assert response.status_code in (303, 404)
    if response.status_code == 303:
        assert "evil" not in response.headers["location"]


def test_refusals_are_an_html_403_without_error_pages(db: Database) -> None:
    add_user(db, email="ada@example.com")
    with client_for(with_pages(make_pages_app(db))) as client:
        log_in(client, "ada@example.com")
        for path in ("/staff-page", "/refund"):
            response = client.get(path, headers=HTML)
            assert response.status_code == 403
            assert response.headers["content-type"].startswith("text/html")
            assert "<h1>Forbidden</h1>" in response.text
        api = client.get("/api/staff", headers=HTML)
    assert api.status_code == 403
    assert api.json() == {"detail": "You do not have permission to perform this action"}


def test_refusals_use_the_apps_error_page_when_it_has_one(db: Database, tmp_path: Path) -> None:
    (tmp_path / "errors").mkdir()
    (tmp_path / "errors" / "403.html").write_text("<p>Our own 403: {{ detail }}</p>")
    add_user(db, email="ada@example.com")
    app, auth = make_app(db)
    templates = Templates(tmp_path)
    templates.init_app(app, error_pages=True)
    app.include_router(pages_router(auth, templates=templates))
    with_pages(app)
    with client_for(app) as client:
        log_in(client, "ada@example.com")
        response = client.get("/staff-page", headers=HTML)
    assert response.status_code == 403
    assert "Our own 403: You do not have permission" in response.text


def test_staff_pass_the_page_guard(db: Database) -> None:
    add_user(db, email="boss@example.com", is_staff=True)
    with client_for(with_pages(make_pages_app(db))) as client:
        log_in(client, "boss@example.com")
        assert client.get("/staff-page").json() == "boss@example.com"


def test_login_url_option_names_the_login_page(db: Database) -> None:
    app = with_pages(make_pages_app(db, login_url="/signin"))
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/page").headers["location"] == "/signin?next=/page"


def test_pages_router_prefix_moves_the_login_page(db: Database) -> None:
    app = with_pages(make_pages_app(db, pages={"prefix": "/users"}))
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/page").headers["location"] == "/users/login?next=/page"


def test_page_guards_document_the_redirect(db: Database) -> None:
    app = with_pages(make_pages_app(db))
    operation = app.openapi()["paths"]["/page"]["get"]
    assert "303" in operation["responses"]
    assert "401" not in operation["responses"]
