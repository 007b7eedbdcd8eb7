"""The admin in a real browser: Debian's Chromium, driven by Playwright, against a real server.

`examples/admin` runs under `trivium run` (Granian) on a free loopback port with its own
SQLite file, seeded with a superuser, a staff user who may only view posts, two authors
and a dozen posts. A person's path through it is replayed: log in, search, filter, sort
by a column header, edit a post (picking its author with the autocomplete, adding
inline replies with the add-row button), run a bulk
action, delete a post after its confirmation page, export the list, and, as the
view-only user, see a read-only page and a bulk delete refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect
from playwright.sync_api import sync_playwright
from tests import live

pytestmark = pytest.mark.live

CHROMIUM = os.environ.get("TRIVIUM_TEST_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "a long and private passphrase"


async def _seed(url: str) -> None:
    from examples.admin.app import Author
    from examples.admin.app import Post

    from trivium.auth import create_superuser
    from trivium.auth import create_user
    from trivium.auth import ensure_permissions
    from trivium.db import Database

    db = Database(url)
    await db.create_all()
    async with db.sessionmaker() as session:
        await create_superuser(session, email="admin@example.com", password=PASSWORD)
        viewer = await create_user(
            session, email="viewer@example.com", password=PASSWORD, is_staff=True
        )
        [view] = await ensure_permissions(session, custom=[("blog.view_post", "Can view post")])
        (await viewer.awaitable_attrs.user_permissions).append(view)
        ursula, octavia = Author(name="Ursula"), Author(name="Octavia")
        session.add_all(
            Post(title=f"Post {n:02d}", author=ursula if n % 2 else octavia, published=n < 3)
            for n in range(12)
        )
        await session.commit()
    await db.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the admin example on a fresh, seeded database; yield its base URL."""
    folder = tmp_path_factory.mktemp("admin")
    url = f"sqlite+aiosqlite:///{folder / 'admin.db'}"
    anyio.run(_seed, url)
    env = live.environment(
        ADMIN_EXAMPLE_DATABASE_URL=url,
        SECRET_KEY="browser-test-secret-key-0123456789-abcdefghijkl",
    )
    with live.trivium_run(
        "examples.admin.app:app",
        "--host",
        "127.0.0.1",
        env=env,
        ready_path="/admin",
        ready=lambda response: response.status_code == 303,
        log_dir=folder,
    ) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Browser]:
    """Launch Debian's Chromium headless (never a Playwright-downloaded browser).

    After the server: seeding its database runs an event loop, which Playwright's sync
    API forbids in a thread where it runs.
    """
    del server
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
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page: Page, server: str, email: str) -> None:
    page.goto(server + "/admin/blog/post")
    expect(page).to_have_url(f"{server}/admin/accounts/login?next=%2Fadmin%2Fblog%2Fpost")
    page.fill("#id_identifier", email)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(server + "/admin/blog/post")


def rows(page: Page) -> list[str]:
    return page.locator("#changelist-form tbody th a").all_inner_texts()


def test_a_superuser_searches_filters_sorts_edits_acts_deletes_and_exports(
    page: Page, server: str
) -> None:
    log_in(page, server, "admin@example.com")
    expect(page.locator(".count")).to_contain_text("12 post objects")

    page.fill("#searchbar", "post 1")
    page.click("form.search button")
    assert sorted(rows(page)) == ["Post 01", "Post 10", "Post 11"]

    page.goto(server + "/admin/blog/post")
    page.click(".filters >> text=Yes")
    assert sorted(rows(page)) == ["Post 00", "Post 01", "Post 02"]
    page.click(".filters >> text=All >> nth=0")

    page.click("thead >> text=title")
    expect(page.locator("thead th[aria-sort=ascending]")).to_contain_text("title")
    assert rows(page)[:2] == ["Post 00", "Post 01"]

    page.click("text=Post 05")
    page.fill("#id_title", "Post 05 edited")
    search = page.locator("input[role=combobox]")
    search.fill("octa")
    page.locator(".ac-list li", has_text="Octavia").click()
    expect(page.locator("#id_author_id_label")).to_have_text("Octavia")
    page.click("button[name=_save]")
    expect(page.locator(".message.success")).to_contain_text("“Post 05 edited” was changed")

    # Inline replies: one empty row is drawn; the script adds a second one.
    page.click("#changelist-form >> text=Post 05 edited")
    page.fill("#id_replies-0-name", "Ann")
    page.click("text=Add another replies row")
    page.fill("#id_replies-1-name", "Bob")
    page.fill("#id_replies-1-text", "Me too")
    page.click("button[name=_continue]")
    expect(page.locator("#id_replies-1-name")).to_have_value("Bob")
    expect(page.locator("input[name=replies-TOTAL]")).to_have_value("3")
    page.goto(server + "/admin/blog/post")

    page.fill("#searchbar", "post 0")
    page.click("form.search button")
    page.check("input[name=_selected][aria-label='Select Post 07']")
    page.check("input[name=_selected][aria-label='Select Post 08']")
    page.select_option("#action", "publish")
    page.click("#changelist-form .actions button")
    expect(page.locator(".message.success")).to_contain_text(
        "Publish selected posts: 2 post objects"
    )
    page.goto(server + "/admin/blog/post?published__exact=1")
    expect(page.locator(".count")).to_contain_text("5 post objects")

    page.goto(server + "/admin/blog/post")
    page.click("text=Post 09")
    page.click("a.danger")
    expect(page.locator("h1")).to_have_text("Are you sure?")
    page.click("button.danger")
    expect(page.locator(".message.success")).to_contain_text("“Post 09” was deleted")
    expect(page.locator(".count")).to_contain_text("11 post objects")

    with page.expect_download() as download:
        page.click("text=Export CSV")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "title,author name,published,created at"
    assert len(lines) == 12
    assert any(line.startswith("Post 05 edited,Octavia,") for line in lines)


def test_a_view_only_user_gets_read_only_pages_without_actions(page: Page, server: str) -> None:
    log_in(page, server, "viewer@example.com")
    page.click("text=Post 03")
    expect(page.locator("#id_title")).to_have_count(0)
    expect(page.locator("[data-field=title]")).to_have_text("Post 03")
    expect(page.locator("button[name=_save]")).to_have_count(0)

    page.go_back()
    # No action the user may not run is offered, so neither are the selection boxes
    # (a crafted post is refused: tests/admin/test_admin_review_a.py).
    expect(page.locator("#changelist-form")).to_contain_text("Post 03")
    expect(page.locator("#action")).to_have_count(0)
    expect(page.locator("input[name=_selected]")).to_have_count(0)
    response = page.request.get(server + "/admin/blog/post/add")
    assert response.status == 403
