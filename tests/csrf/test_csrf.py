"""CSRFMiddleware through real HTTP: tokens in headers and forms, origins, exemptions."""

from __future__ import annotations

from typing import Annotated
from typing import Any

import pytest

from trivium import App
from trivium import File
from trivium import Form
from trivium import Request
from trivium import UploadFile
from trivium.csrf import CSRF
from trivium.csrf import CSRFMiddleware
from trivium.csrf import get_csrf_token
from trivium.errors import ConfigurationError
from trivium.sessions import SessionMiddleware
from trivium.sessions import Sessions
from trivium.testing import TestClient

KEY = "k" * 40


def make_app(session: bool = True, **options: Any) -> App:
    app = App(openapi_url=None)
    app.add_middleware(CSRFMiddleware, **options)
    if session:
        app.add_middleware(SessionMiddleware, secret_key=KEY)

    @app.get("/token")
    async def token(request: Request) -> dict[str, str]:
        return {"token": get_csrf_token(request)}

    @app.post("/submit")
    async def submit() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/logout")
    async def logout(request: Request) -> dict[str, bool]:
        request.session.flush()  # type: ignore[attr-defined]
        return {"ok": True}

    @app.post("/form")
    async def form(name: Annotated[str, Form()]) -> dict[str, str]:
        return {"name": name}

    @app.post("/upload")
    async def upload(
        title: Annotated[str, Form()], file: Annotated[UploadFile, File()]
    ) -> dict[str, Any]:
        return {"title": title, "size": len(await file.read())}

    @app.post("/hooks/stripe")
    async def hook() -> dict[str, bool]:
        return {"ok": True}

    return app


def logged_in(app: App | None = None, **options: Any) -> tuple[TestClient, str]:
    client = TestClient(app or make_app(), **options)
    return client, client.get("/token").json()["token"]


def test_safe_methods_pass_without_token() -> None:
    client, _ = logged_in()
    assert client.get("/token").status_code == 200
    assert client.options("/submit").status_code != 403


def test_missing_token_is_refused() -> None:
    client, _ = logged_in()
    response = client.post("/submit")
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF token missing"}


def test_wrong_token_is_refused() -> None:
    client, token = logged_in()
    response = client.post("/submit", headers={"x-csrf-token": token[:-4] + "AAAA"})
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF token incorrect"}
    garbage = client.post("/submit", headers={"x-csrf-token": "not base64!"})
    assert garbage.json() == {"detail": "CSRF token incorrect"}


def test_header_token_is_accepted() -> None:
    client, token = logged_in()
    response = client.post("/submit", headers={"x-csrf-token": token})
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_tokens_are_masked_per_call_and_all_verify() -> None:
    client, first = logged_in()
    second = client.get("/token").json()["token"]
    assert first != second
    for token in (first, second):
        assert client.post("/submit", headers={"x-csrf-token": token}).status_code == 200


def test_another_sessions_token_is_refused() -> None:
    app = make_app()
    client, _ = logged_in(app)
    _, foreign = logged_in(app)
    response = client.post("/submit", headers={"x-csrf-token": foreign})
    assert response.json() == {"detail": "CSRF token incorrect"}


def test_token_dies_with_the_session() -> None:
    client, token = logged_in()
    assert client.post("/logout", headers={"x-csrf-token": token}).status_code == 200
    client.get("/token")
    response = client.post("/submit", headers={"x-csrf-token": token})
    assert response.json() == {"detail": "CSRF token incorrect"}


def test_urlencoded_form_field_is_accepted_and_form_still_reaches_handler() -> None:
    client, token = logged_in()
    response = client.post("/form", data={"name": "Ada", "csrf_token": token})
    assert response.status_code == 200
    assert response.json() == {"name": "Ada"}


def test_urlencoded_form_without_field_is_refused() -> None:
    client, _ = logged_in()
    response = client.post("/form", data={"name": "Ada"})
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF token missing"}


def test_multipart_form_field_is_accepted_and_upload_still_reaches_handler() -> None:
    client, token = logged_in()
    content = b"x" * 200_000
    response = client.post(
        "/upload",
        data={"csrf_token": token, "title": "report"},
        files={"file": ("report.bin", content, "application/octet-stream")},
    )
    assert response.status_code == 200
    assert response.json() == {"title": "report", "size": len(content)}


def test_multipart_with_wrong_field_is_refused() -> None:
    client, _ = logged_in()
    response = client.post(
        "/upload",
        data={"csrf_token": "nope", "title": "report"},
        files={"file": ("a.txt", b"abc", "text/plain")},
    )
    assert response.json() == {"detail": "CSRF token incorrect"}


def test_oversized_form_without_token_gets_413() -> None:
    client, _ = logged_in(make_app(max_body_size=100))
    response = client.post("/form", data={"name": "A" * 500})
    assert response.status_code == 413


def test_api_call_without_session_cookie_is_exempt() -> None:
    client = TestClient(make_app())
    response = client.post("/submit", headers={"authorization": "Bearer abc.def.ghi"})
    assert response.status_code == 200


def test_cross_origin_request_is_refused_even_without_cookie() -> None:
    client = TestClient(make_app())
    response = client.post("/submit", headers={"origin": "https://evil.example"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Origin 'https://evil.example' is not trusted"}


def test_cross_origin_json_call_without_cookie_is_left_to_cors() -> None:
    client = TestClient(make_app())
    headers = {"origin": "https://spa.example", "content-type": "application/json"}
    response = client.post("/submit", headers=headers, content=b"{}")
    assert response.status_code == 200


def test_cross_origin_form_post_with_cookie_is_refused() -> None:
    client, token = logged_in()
    headers = {"origin": "https://evil.example", "x-csrf-token": token}
    response = client.post("/submit", headers=headers, data={"a": "1"})
    assert response.status_code == 403


def test_null_origin_is_refused() -> None:
    response = TestClient(make_app()).post("/submit", headers={"origin": "null"})
    assert response.status_code == 403


def test_same_origin_request_passes_the_origin_check() -> None:
    client, token = logged_in()
    headers = {"origin": "http://testserver", "x-csrf-token": token}
    assert client.post("/submit", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "origin",
    ["https://app.example.com", "https://eu.shop.example.com", "https://APP.example.com:443"],
)
def test_trusted_origins_are_accepted(origin: str) -> None:
    app = make_app(trusted_origins=["https://app.example.com", "https://*.shop.example.com"])
    client, token = logged_in(app)
    headers = {"origin": origin, "x-csrf-token": token}
    assert client.post("/submit", headers=headers).status_code == 200


def test_wildcard_does_not_match_other_schemes_or_hosts() -> None:
    app = make_app(trusted_origins=["https://*.example.com"])
    client = TestClient(app)
    for origin in ("http://a.example.com", "https://example.com.evil.net", "https://example.com"):
        assert client.post("/submit", headers={"origin": origin}).status_code == 403


def test_https_cross_site_referer_is_refused_without_origin() -> None:
    client = TestClient(make_app(), base_url="https://testserver")
    response = client.post("/submit", headers={"referer": "https://evil.example/page?q=1"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Origin 'https://evil.example' is not trusted"}
    same = client.post("/submit", headers={"referer": "https://testserver/page"})
    assert same.status_code == 200


def test_exempt_paths_skip_every_check() -> None:
    client, _ = logged_in(make_app(exempt_paths=["/hooks/"]))
    response = client.post("/hooks/stripe", headers={"origin": "https://stripe.example"})
    assert response.status_code == 200


@pytest.mark.asgi_only("RSGI has no root_path")
def test_exempt_paths_are_paths_within_the_app_under_a_root_path() -> None:
    client, _ = logged_in(make_app(exempt_paths=["/hooks/"]), root_path="/api")
    response = client.post("/hooks/stripe", headers={"origin": "https://stripe.example"})
    assert response.status_code == 200
    assert client.post("/submit").json() == {"detail": "CSRF token missing"}


@pytest.mark.asgi_only("RSGI has no root_path")
def test_the_plugin_exempts_paths_within_the_app_under_a_root_path() -> None:
    app = App(openapi_url=None, plugins=[Sessions(secret_key=KEY), CSRF(exempt_paths=["/sso/"])])

    @app.post("/sso/acs")
    async def acs(request: Request) -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app, root_path="/api")
    foreign = {"origin": "https://idp.example.net"}
    response = client.post("/sso/acs", data={"SAMLResponse": "..."}, headers=foreign)
    assert response.json() == {"ok": True}


def test_missing_session_middleware_is_a_configuration_error() -> None:
    client = TestClient(make_app(session=False))
    with pytest.raises(ConfigurationError, match="SessionMiddleware") as info:
        client.post("/submit")
    assert info.value.code == "csrf-no-session"


@pytest.mark.parametrize(
    "origin",
    [
        "example.com",
        "https://example.com/path",
        "ftp://x.org",
        # Entries that could never match an Origin header: refused, not trusted silently.
        "https://example.com?x=1",
        "https://example.com#top",
        "https://user:pw@example.com",
        "https://*",
        "https://a.*.example.com",
        "https://*example.com",
        "https://exa mple.com",
    ],
)
def test_invalid_trusted_origins_are_refused(origin: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        CSRFMiddleware(make_app(), trusted_origins=[origin])
    assert info.value.code == "csrf-trusted-origin"
