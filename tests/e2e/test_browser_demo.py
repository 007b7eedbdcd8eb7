"""The demo in a real browser: Debian's Chromium, driven by Playwright, against a real server.

The demo (`examples/demo`) runs under `trivium run` (Granian, RSGI) on a free loopback
port with its own SQLite file; a person's path through it is replayed: log in, fill in a
form, see the errors with the values kept, correct them, see the flash message, log out.
Playwright's bundled browsers are never installed: `TRIVIUM_TEST_CHROMIUM` (default
`/usr/bin/chromium`) names the browser, and the tests skip when it is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect
from playwright.sync_api import sync_playwright
from tests import live

pytestmark = pytest.mark.live

CHROMIUM = os.environ.get("TRIVIUM_TEST_CHROMIUM", "/usr/bin/chromium")
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "trivium-demo-password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the demo on a fresh database; yield its base URL."""
    folder = tmp_path_factory.mktemp("demo")
    env = live.environment(TRIVIUM_DEMO_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'demo.db'}")
    with live.trivium_run(
        "examples.demo.app:app",
        "--host",
        "127.0.0.1",
        env=env,
        ready_path="/health",
        ready=lambda response: response.status_code == 200,
        log_dir=folder,
    ) as server:
        yield server.url


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


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page for each test."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page: Page, server: str, path: str = "/todos/new") -> None:
    """Open `path`, get sent to the login page, log in as the demo user and come back."""
    page.goto(server + path)
    expect(page).to_have_url(f"{server}/login?next={path}")
    page.fill("#id_email", DEMO_EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(server + path)


def test_log_in_fix_a_form_see_the_flash_and_log_out(page: Page, server: str) -> None:
    log_in(page, server)
    expect(page.locator(".flash")).to_have_text(f"Welcome, {DEMO_EMAIL}.")
    expect(page.locator("#whoami")).to_have_text(DEMO_EMAIL)

    # Spaces only: the browser's own checks pass, the server's do not.
    page.fill("#id_title", "   ")
    page.fill("#id_notes", "Use the big pot")
    page.select_option("#id_priority", "high")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#todo-form button[type=submit]")
    assert posted.value.status == 422
    expect(page.locator("#todo-form")).to_contain_text("This field is required.")
    expect(page.locator("#id_notes")).to_have_value("Use the big pot")
    expect(page.locator("#id_priority")).to_have_value("high")

    page.fill("#id_title", "Repot the fern")
    page.click("#todo-form button[type=submit]")
    expect(page).to_have_url(server + "/todos")
    expect(page.locator(".flash")).to_have_text("Added “Repot the fern”.")
    expect(page.locator("#todos")).to_contain_text("Repot the fern")
    page.reload()
    expect(page.locator(".flash")).to_have_count(0)

    page.click("#logout")
    expect(page.locator(".flash")).to_have_text("You are logged out.")
    expect(page.locator("#login")).to_be_visible()
    page.goto(server + "/todos/new")
    expect(page).to_have_url(f"{server}/login?next=/todos/new")


def test_edit_and_delete_through_the_pages(page: Page, server: str) -> None:
    log_in(page, server)
    page.fill("#id_title", "Read the docs")
    page.click("#todo-form button[type=submit]")
    page.click("#todos >> text=Read the docs")
    page.click("#edit")
    expect(page.locator("#id_title")).to_have_value("Read the docs")
    page.fill("#id_title", "Read all the docs")
    page.check("#id_done")
    page.click("#todo-form button[type=submit]")
    expect(page.locator(".flash")).to_have_text("Saved “Read all the docs”.")
    expect(page.locator("h1")).to_have_class("done")
    page.click("#delete")
    expect(page).to_have_url(server + "/todos")
    expect(page.locator(".flash")).to_have_text("Deleted “Read all the docs”.")


def test_a_post_without_the_csrf_token_is_refused(page: Page, server: str) -> None:
    log_in(page, server)
    # The page's own cookies go with `page.request`; only the token is missing.
    response = page.request.post(server + "/todos/new", form={"title": "Forged"})
    assert response.status == 403
    assert response.json() == {"detail": "CSRF token missing"}
    api = page.request.post(server + "/api/todos", data={"title": "Forged"})
    assert api.status == 403
    page.goto(server + "/todos")
    expect(page.locator("body")).not_to_contain_text("Forged")


def test_the_index_page_echoes_over_the_websocket(page: Page, server: str) -> None:
    page.goto(server + "/")
    expect(page.locator("body")).to_contain_text(DEMO_PASSWORD)
    page.fill("#msg", "hi there")
    page.click("#send")
    expect(page.locator("#out")).to_have_text("echo: hi there")


def test_the_list_updates_live_in_another_window(browser: Browser, server: str) -> None:
    windows = [browser.new_context() for _ in range(2)]
    try:
        writer, watcher = (context.new_page() for context in windows)
        for window in (writer, watcher):
            window.set_default_timeout(10_000)
            log_in(window, server)
        watcher.goto(server + "/todos")
        # The list page subscribes over server-sent events once loaded.
        with watcher.expect_response(lambda r: r.url.endswith("/todos/events")):
            watcher.reload()
        writer.fill("#id_title", "Water the basil")
        writer.click("#todo-form button[type=submit]")
        expect(writer.locator(".flash")).to_have_text("Added “Water the basil”.")
        expect(watcher.locator("#todos")).to_contain_text("Water the basil")
    finally:
        for context in windows:
            context.close()
