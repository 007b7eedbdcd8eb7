"""SecurityHeadersMiddleware (headers, HSTS, CSP with nonce) and HTTPSRedirectMiddleware."""

from __future__ import annotations

import re
from typing import Any

import pytest

from trivium import App
from trivium import Request
from trivium import WebSocket
from trivium.errors import ConfigurationError
from trivium.middleware import HSTS
from trivium.middleware import ContentSecurityPolicy
from trivium.middleware import HTTPSRedirectMiddleware
from trivium.middleware import Middleware
from trivium.middleware import SecurityHeadersMiddleware
from trivium.responses import PlainTextResponse
from trivium.testing import TestClient
from trivium.testing import WebSocketRejected


def make_client(base_url: str = "https://app.test", **options: Any) -> TestClient:
    app = App(middleware=[Middleware(SecurityHeadersMiddleware, **options)], openapi_url=None)

    @app.get("/")
    async def index(request: Request) -> dict[str, Any]:
        return {"nonce": getattr(request.state, "csp_nonce", None)}

    @app.get("/framed")
    async def framed() -> PlainTextResponse:
        return PlainTextResponse(
            "x",
            headers={"x-frame-options": "SAMEORIGIN", "content-security-policy": "default-src *"},
        )

    return TestClient(app, base_url=base_url, follow_redirects=False)


def test_default_headers_on_https() -> None:
    headers = make_client().get("/").headers
    assert headers["strict-transport-security"] == "max-age=31536000"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "content-security-policy" not in headers
    assert "permissions-policy" not in headers


def test_hsts_is_not_sent_over_plain_http() -> None:
    headers = make_client("http://app.test").get("/").headers
    assert "strict-transport-security" not in headers
    assert headers["x-content-type-options"] == "nosniff"


def test_hsts_options_and_disabling() -> None:
    hsts = HSTS(max_age=63072000, include_subdomains=True, preload=True)
    value = make_client(hsts=hsts).get("/").headers["strict-transport-security"]
    assert value == "max-age=63072000; includeSubDomains; preload"
    assert "strict-transport-security" not in make_client(hsts=False).get("/").headers


def test_headers_set_by_the_app_are_kept() -> None:
    client = make_client(csp={"default-src": "self"})
    headers = client.get("/framed").headers
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert headers["content-security-policy"] == "default-src *"
    assert headers.get_list("x-frame-options") == ["SAMEORIGIN"]


def test_other_headers_can_be_changed_or_turned_off() -> None:
    client = make_client(
        frame_options=None,
        referrer_policy="no-referrer",
        cross_origin_opener_policy=None,
        content_type_options=False,
        permissions_policy={"camera": [], "geolocation": ["self", "https://maps.test"]},
    )
    headers = client.get("/").headers
    assert "x-frame-options" not in headers
    assert "cross-origin-opener-policy" not in headers
    assert "x-content-type-options" not in headers
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["permissions-policy"] == 'camera=(), geolocation=(self "https://maps.test")'


def test_permissions_policy_as_a_string() -> None:
    client = make_client(permissions_policy="interest-cohort=()")
    assert client.get("/").headers["permissions-policy"] == "interest-cohort=()"


def test_static_csp_without_nonce_and_frame_ancestors_from_frame_options() -> None:
    client = make_client(
        csp={
            "default-src": "self",
            "img-src": ["self", "data:"],
            "upgrade-insecure-requests": True,
        },
        frame_options="sameorigin",
    )
    response = client.get("/")
    assert response.headers["content-security-policy"] == (
        "default-src 'self'; img-src 'self' data:; upgrade-insecure-requests; "
        "frame-ancestors 'self'"
    )
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.json() == {"nonce": None}


def test_csp_nonce_is_fresh_per_request_and_in_request_state() -> None:
    client = make_client(csp={"default-src": "self", "script-src": ["self"], "style-src": "self"})
    first = client.get("/")
    second = client.get("/")
    nonce = first.json()["nonce"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", nonce)
    assert nonce != second.json()["nonce"]
    assert first.headers["content-security-policy"] == (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; frame-ancestors 'none'"
    )


def test_style_src_is_derived_from_default_src_when_the_policy_uses_a_nonce() -> None:
    client = make_client(csp={"default-src": ["self", "https://cdn.test"], "script-src": "self"})
    response = client.get("/")
    nonce = response.json()["nonce"]
    assert response.headers["content-security-policy"] == (
        f"default-src 'self' https://cdn.test; script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' https://cdn.test 'nonce-{nonce}'; frame-ancestors 'none'"
    )


def test_script_src_is_never_derived() -> None:
    response = make_client(csp={"default-src": "self", "style-src": "self"}).get("/")
    nonce = response.json()["nonce"]
    assert response.headers["content-security-policy"] == (
        f"default-src 'self'; style-src 'self' 'nonce-{nonce}'; frame-ancestors 'none'"
    )


@pytest.mark.parametrize(
    "policy",
    [
        ContentSecurityPolicy({"default-src": "none", "script-src": "self"}),
        ContentSecurityPolicy({"default-src": True, "script-src": "self"}),
        ContentSecurityPolicy({"default-src": ["self", "unsafe-inline"], "script-src": "self"}),
        ContentSecurityPolicy({"script-src": "self"}),
        ContentSecurityPolicy(
            {"default-src": "self", "script-src": "self"}, nonce_directives=("script-src",)
        ),
        ContentSecurityPolicy({"default-src": "self", "script-src": ["'nonce-{nonce}'"]}),
    ],
)
def test_style_src_is_not_derived_where_it_would_change_the_policy(
    policy: ContentSecurityPolicy,
) -> None:
    response = make_client(csp=policy).get("/")
    assert response.json()["nonce"] is not None
    assert "style-src" not in response.headers["content-security-policy"]


def test_explicit_nonce_placeholder_is_substituted() -> None:
    policy = ContentSecurityPolicy(
        {"script-src": ["'nonce-{nonce}'", "strict-dynamic"], "frame-ancestors": "none"},
        report_only=True,
    )
    response = make_client(csp=policy).get("/")
    nonce = response.json()["nonce"]
    assert "content-security-policy" not in response.headers
    assert response.headers["content-security-policy-report-only"] == (
        f"script-src 'nonce-{nonce}' 'strict-dynamic'; frame-ancestors 'none'"
    )


def test_directive_set_to_false_is_left_out() -> None:
    response = make_client(csp={"default-src": "self", "script-src": False}).get("/")
    assert response.headers["content-security-policy"].startswith("default-src 'self';")
    assert "script-src" not in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"frame_options": "ALLOW-FROM x"}, "security-header"),
        ({"referrer_policy": "sometimes"}, "security-header"),
        ({"cross_origin_opener_policy": "open"}, "security-header"),
        ({"csp": {"Script Src": "self"}}, "csp-directive"),
        ({"csp": {"script-src": "self; img-src *"}}, "csp-directive"),
        ({"permissions_policy": {"camera": "self"}}, "permissions-policy"),
        ({"permissions_policy": "camera=()\r\nx-evil: 1"}, "permissions-policy"),
    ],
)
def test_invalid_configuration_is_refused(options: dict[str, Any], code: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        SecurityHeadersMiddleware(make_client().app, **options)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("hsts", "code"),
    [
        ({"max_age": -1}, "hsts"),
        ({"preload": True}, "hsts-preload"),
        ({"preload": True, "include_subdomains": True, "max_age": 60}, "hsts-preload"),
    ],
)
def test_invalid_hsts_is_refused(hsts: dict[str, Any], code: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        HSTS(**hsts)
    assert info.value.code == code


def redirect_client(base_url: str, **kwargs: Any) -> TestClient:
    app = App(middleware=[Middleware(HTTPSRedirectMiddleware)], openapi_url=None)

    @app.get("/page")
    async def page() -> str:
        return "secure"

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    return TestClient(app, base_url=base_url, follow_redirects=False, **kwargs)


@pytest.mark.parametrize(
    ("base_url", "location"),
    [
        ("http://app.test", "https://app.test/page?a=1&b=%20"),
        ("http://app.test:80", "https://app.test/page?a=1&b=%20"),
        ("http://app.test:8080", "https://app.test:8080/page?a=1&b=%20"),
    ],
)
def test_http_is_redirected_to_https_with_308(base_url: str, location: str) -> None:
    response = redirect_client(base_url).post("/page?a=1&b=%20")
    assert response.status_code == 308
    assert response.headers["location"] == location


def test_https_request_is_served() -> None:
    assert redirect_client("https://app.test").get("/page").text == '"secure"'


def test_redirect_keeps_root_path() -> None:
    response = redirect_client("http://app.test", root_path="/api").get("/page")
    assert response.headers["location"] == "https://app.test/api/page"


def test_bad_host_header_gets_400_not_a_redirect() -> None:
    response = redirect_client("http://app.test").get("/page", headers={"host": "evil.test/x"})
    assert response.status_code == 400


@pytest.mark.asgi_only("RSGI websockets cannot be refused with a redirect")
def test_websocket_over_ws_is_redirected_to_wss() -> None:
    with pytest.raises(WebSocketRejected) as info:
        with redirect_client("http://app.test").websocket_connect("/ws?x=1"):
            pass
    assert info.value.status_code == 308
    assert (b"location", b"wss://app.test/ws?x=1") in info.value.headers
    with redirect_client("https://app.test").websocket_connect("/ws"):
        pass


def test_responses_made_outside_the_middleware_still_get_its_headers() -> None:
    # Middleware outside it (TrustedHost's 400, the HTTPS redirect) and the edge's own
    # 500 never pass through SecurityHeadersMiddleware: the edge adds its fixed headers.
    from trivium.middleware import TrustedHostMiddleware

    app = App(
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=["example.com"]),
            Middleware(HTTPSRedirectMiddleware),
            Middleware(
                SecurityHeadersMiddleware, csp={"default-src": "self"}, frame_options="SAMEORIGIN"
            ),
        ]
    )

    @app.get("/")
    async def root() -> str:
        return "ok"

    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("bug")

    def get(base: str, path: str) -> Any:
        client = TestClient(
            app, raise_server_exceptions=False, base_url=base, follow_redirects=False
        )
        return client.get(path)

    answers = {
        400: get("https://evil.example", "/"),
        308: get("http://example.com", "/"),
        500: get("https://example.com", "/boom"),
        200: get("https://example.com", "/"),
    }
    for status, response in answers.items():
        assert response.status_code == status
        assert response.headers["x-content-type-options"] == "nosniff", status
        assert response.headers["x-frame-options"] == "SAMEORIGIN", status  # the middleware's
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert "strict-transport-security" in answers[200].headers  # HTTPS, through it
