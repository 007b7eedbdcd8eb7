"""trivium's HTML error pages keep their styles under the policy the Templates guide sets up.

The guide (`examples/templates/app.py`) uses `{"default-src": "self", "script-src": "self"}`.
The built-in pages inline their styles in a `<style nonce>`, which a policy without
`style-src` would judge by `default-src 'self'` and block. The test client checks the
header and the nonce; a live test opens the page in Debian's Chromium, driven by
Playwright (`TRIVIUM_TEST_CHROMIUM`, default `/usr/bin/chromium`; skipped without it),
and checks that the styles apply and no violation is reported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import sync_playwright
from tests import live

from trivium import App
from trivium import HTTPException
from trivium.middleware import ContentSecurityPolicy
from trivium.middleware import Middleware
from trivium.middleware import SecurityHeadersMiddleware
from trivium.templating import Templates
from trivium.testing import TestClient

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
GUIDE_POLICY = {"default-src": "self", "script-src": "self"}
CHROMIUM = os.environ.get("TRIVIUM_TEST_CHROMIUM", "/usr/bin/chromium")


def guide_app() -> App:
    policy = ContentSecurityPolicy(GUIDE_POLICY)
    app = App(openapi_url=None, middleware=[Middleware(SecurityHeadersMiddleware, csp=policy)])
    Templates(None).init_app(app, error_pages=True)

    @app.get("/admin")
    async def admin() -> None:
        raise HTTPException(403)

    return app


@pytest.mark.parametrize("path", ["/missing", "/admin"])
def test_built_in_error_page_style_carries_a_nonce_the_policy_allows(path: str) -> None:
    response = TestClient(guide_app()).get(path, headers=BROWSER)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    found = re.search(r'<style nonce="([^"]+)">', response.text)
    assert found is not None
    nonce = found.group(1)
    directives = dict(
        part.split(" ", 1) for part in response.headers["content-security-policy"].split("; ")
    )
    assert directives["style-src"] == f"'self' 'nonce-{nonce}'"
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]


# A real browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Launch Debian's Chromium headless (never a Playwright-downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set TRIVIUM_TEST_CHROMIUM to its path)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--headless=new"]
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the Templates guide's example app; yield its base URL."""
    folder = tmp_path_factory.mktemp("templates-example")
    with live.trivium_run(
        "examples.templates.app:app", "--host", "127.0.0.1", log_dir=folder
    ) as server:
        yield server.url


@pytest.mark.live
def test_built_in_error_page_is_styled_in_chromium(browser: Browser, server: str) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        messages: list[str] = []
        page.on("console", lambda message: messages.append(message.text))
        page.add_init_script(
            "window.violations = [];"
            "document.addEventListener('securitypolicyviolation',"
            " (event) => window.violations.push(event.effectiveDirective));"
        )
        response = page.goto(server + "/admin")  # the example raises 403: a built-in page
        assert response is not None
        assert response.status == 403
        assert page.title() == "403 Forbidden"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        radius = page.evaluate(
            "getComputedStyle(document.querySelector('main')).borderTopLeftRadius"
        )
        violations = page.evaluate("window.violations")
    finally:
        context.close()
    assert background == "rgb(246, 248, 250)"
    assert radius == "8px"
    assert violations == []
    assert not [text for text in messages if "Content Security Policy" in text]
