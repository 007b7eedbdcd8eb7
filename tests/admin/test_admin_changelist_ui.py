"""Change-list fixes: list_editable saves every row, date drill-down, refusals, export order.

The last test runs the editable list in Debian's Chromium, driven by Playwright, every
browser request answered by the in-process test client (Enter in a cell saves; running
an action with edited cells asks first).

Every test drives the admin over HTTP on each configured database, with a model of two
editable columns (`price`, `in_stock`) and a date drill-down (`released`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime
import decimal
import html
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import Date
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import grant
from tests.admin.adminapp import log_in
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium import App
from trivium.admin import Admin
from trivium.admin import ModelAdmin
from trivium.auth import Auth
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.stores import MemoryStore
from trivium.testing import TestClient

try:
    from playwright.sync_api import expect
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - Playwright is a test extra
    sync_playwright = None  # type: ignore[assignment]


class UiGadget(IntPK, Model):
    __tablename__ = "adminuifix_gadget"
    __app_label__ = "uifix"
    name: Mapped[str] = mapped_column(String(50))
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(8, 2))
    in_stock: Mapped[bool] = mapped_column(default=True)
    released: Mapped[datetime.date | None] = mapped_column(Date, default=None, nullable=True)

    def __str__(self) -> str:
        return self.name


class GadgetAdmin(ModelAdmin):
    list_display = ("name", "price", "in_stock", "released")
    list_filter = ("in_stock",)
    list_editable = ("price", "in_stock")
    ordering = ("-id",)
    date_hierarchy = "released"
    list_per_page = 5


URL = "/admin/uifix/uigadget"


async def _add_gadgets(db: Database, dates: list[datetime.date | None]) -> None:
    db = twin(db)
    async with db.sessionmaker() as session:
        for number, day in enumerate(dates, start=1):
            session.add(
                UiGadget(
                    name=f"Gadget {number}",
                    price=decimal.Decimal(number * 10),
                    in_stock=True,
                    released=day,
                )
            )
        await session.commit()
    await db.dispose()


async def _prices(db: Database) -> dict[int, decimal.Decimal]:
    db = twin(db)
    async with db.sessionmaker() as session:
        rows = (await session.execute(select(UiGadget.id, UiGadget.price))).all()
    await db.dispose()
    return {key: decimal.Decimal(price) for key, price in rows}


@contextlib.contextmanager
def client_as(
    db: Database,
    email: str,
    *perms: str,
    dates: list[datetime.date | None] | None = None,
) -> Iterator[TestClient]:
    anyio.run(seed, db, 0)
    if perms:
        anyio.run(grant, db, email, *perms)
    anyio.run(_add_gadgets, db, dates if dates is not None else [None] * 7)
    app = App()
    db.init_app(app)
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore(), site_url="http://testserver")
    auth.init_app(app)
    admin = Admin(db, auth)
    admin.register(UiGadget, GadgetAdmin)
    admin.init_app(app)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, email)
        yield client


def posted_form(page: str) -> list[tuple[str, str]]:
    """The fields a browser posts from the change-list form (submit buttons left out)."""
    body = page.split('id="changelist-form"', 1)[1].split("</form>", 1)[0]
    data: list[tuple[str, str]] = []
    for match in re.finditer(r"<input([^>]*)>", body):
        attributes = match.group(1)
        name = re.search(r'name="([^"]+)"', attributes)
        if name is None:
            continue
        if 'type="checkbox"' in attributes and "checked" not in attributes:
            continue
        value = re.search(r'value="([^"]*)"', attributes)
        data.append((name.group(1), html.unescape(value.group(1)) if value else ""))
    return data


def _post(client: TestClient, fields: list[tuple[str, str]]) -> Any:
    body = "&".join(
        f"{k}={v}" for k, v in [(k, v.replace("&", "%26").replace(" ", "+")) for k, v in fields]
    )
    return client.post(
        URL, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )


def _messages(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<li class="message [a-z]+">([^<]*)</li>', page)]


# list_editable: every row of a full page is saved, each error flashed once --------------


def test_list_editable_with_two_columns_saves_every_row_of_a_full_page(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get(URL)
        keys = re.findall(r'name="_selected" value="(\d+)"', page.text)
        assert len(keys) == 5  # a full page (7 gadgets, 5 a page)
        assert page.text.count('name="_pk"') == 5  # one key a row, not one a cell
        fields = [
            (name, "99.50" if name.endswith("-price") else value)
            for name, value in posted_form(page.text)
        ]
        answer = _post(client, [*fields, ("_save", "1")])
        assert answer.status_code == 303
        shown = client.get(answer.headers["location"]).text
        assert "5 ui gadget objects were changed successfully." in _messages(shown)
        prices = anyio.run(_prices, db)
        assert [prices[int(k)] for k in keys] == [decimal.Decimal("99.50")] * 5
        assert prices[1] == decimal.Decimal(10)  # on page 2: untouched


def test_a_key_posted_once_a_cell_is_still_saved_once_a_row(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get(URL)
        keys = re.findall(r'name="_selected" value="(\d+)"', page.text)
        fields: list[tuple[str, str]] = [("csrf_token", csrf_of(page))]
        for key in keys:  # as a page drawn with a key in each editable cell posts
            fields += [("_pk", key), (f"form-{key}-price", "12.00")]
            fields += [("_pk", key), (f"form-{key}-in_stock", "true")]
        answer = _post(client, [*fields, ("_save", "1")])
        assert answer.status_code == 303
        shown = client.get(answer.headers["location"]).text
        assert "5 ui gadget objects were changed successfully." in _messages(shown)
        prices = anyio.run(_prices, db)
        assert [prices[int(k)] for k in keys] == [decimal.Decimal("12.00")] * 5


def test_an_invalid_row_is_reported_once_and_the_others_are_saved(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get(URL)
        keys = re.findall(r'name="_selected" value="(\d+)"', page.text)
        bad = keys[-1]
        fields = [
            (name, ("abc" if name == f"form-{bad}-price" else "5.00"))
            if name.endswith("-price")
            else (name, value)
            for name, value in posted_form(page.text)
        ]
        answer = _post(client, [*fields, ("_save", "1")])
        shown = _messages(client.get(answer.headers["location"]).text)
        refusals = [m for m in shown if m.startswith(f"Row {bad} was not saved")]
        assert len(refusals) == 1, shown
        assert "4 ui gadget objects were changed successfully." in shown
        prices = anyio.run(_prices, db)
        assert prices[int(bad)] == decimal.Decimal(int(bad) * 10)


# "Save and add another" only for users who may add ------------------------------------


def test_save_and_add_another_is_offered_only_to_users_who_may_add(db: Database) -> None:
    perms = ("uifix.view_uigadget", "uifix.change_uigadget")
    with client_as(db, "staff@example.com", *perms) as client:
        page = client.get(f"{URL}/1/change")
        assert page.status_code == 200
        assert 'name="_save"' in page.text
        assert 'name="_continue"' in page.text
        assert 'name="_addanother"' not in page.text


def test_save_and_add_another_is_offered_to_users_who_may_add(db: Database) -> None:
    perms = ("uifix.view_uigadget", "uifix.change_uigadget", "uifix.add_uigadget")
    with client_as(db, "staff@example.com", *perms) as client:
        assert 'name="_addanother"' in client.get(f"{URL}/1/change").text
        assert 'name="_addanother"' in client.get(f"{URL}/add").text


# Date drill-down: real days only, years that hold rows ----------------------------------


def _drill_labels(page: str) -> list[str]:
    nav = page.split('aria-label="Dates"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="[^"]*">([^<]*)</a>', nav)


def test_a_month_lists_only_its_real_days(db: Database) -> None:
    dates = [datetime.date(2024, 2, 29), datetime.date(2023, 2, 3)]
    with client_as(db, "root@example.com", dates=dates) as client:
        leap = _drill_labels(client.get(f"{URL}?released__year=2024&released__month=2").text)
        assert "2024-02-29" in leap
        assert "2024-02-30" not in leap
        plain = _drill_labels(client.get(f"{URL}?released__year=2023&released__month=2").text)
        assert plain[-1] == "2023-02-28"
        april = _drill_labels(client.get(f"{URL}?released__year=2023&released__month=4").text)
        assert april[-1] == "2023-04-30"


def test_an_impossible_date_is_ignored_and_said_so(db: Database) -> None:
    dates = [datetime.date(2023, 2, 3)]
    with client_as(db, "root@example.com", dates=dates) as client:
        page = client.get(f"{URL}?released__year=2023&released__month=2&released__day=30")
        assert page.status_code == 200
        assert "Ignored the date filter released__day=&#39;30&#39;." in page.text
        assert "Gadget 1" in page.text  # the month's rows are shown, not none
        assert "2023-02-28" in _drill_labels(page.text)


def test_the_years_listed_are_those_holding_rows(db: Database) -> None:
    dates = [
        datetime.date(1950, 6, 1),
        datetime.date(2024, 1, 5),
        datetime.date(2025, 3, 5),
        datetime.date(2026, 7, 5),
        None,
    ]
    with client_as(db, "root@example.com", dates=dates) as client:
        labels = _drill_labels(client.get(URL).text)
        assert labels == ["1950", "2024", "2025", "2026"]


# delete_selected without the delete permission is refused before the confirmation -----


def test_delete_selected_without_delete_permission_is_refused_before_confirming(
    db: Database,
) -> None:
    perms = ("uifix.view_uigadget", "uifix.change_uigadget")
    with client_as(db, "staff@example.com", *perms) as client:
        page = client.get(URL)
        answer = client.post(
            URL,
            data={
                "action": "delete_selected",
                "_selected": ["1", "2"],
                "csrf_token": csrf_of(page),
            },
        )
        assert answer.status_code == 303
        assert "Are you sure" not in answer.text
        shown = _messages(client.get(answer.headers["location"]).text)
        assert any("may not" in m and "Delete selected" in m for m in shown), shown
        assert len(anyio.run(_prices, db)) == 7


def test_delete_selected_with_delete_permission_still_confirms(db: Database) -> None:
    perms = ("uifix.view_uigadget", "uifix.change_uigadget", "uifix.delete_uigadget")
    with client_as(db, "staff@example.com", *perms) as client:
        page = client.get(URL)
        answer = client.post(
            URL,
            data={"action": "delete_selected", "_selected": ["1"], "csrf_token": csrf_of(page)},
        )
        assert answer.status_code == 200
        assert "Are you sure" in answer.text


# Export follows the list's order ---------------------------------------------------------


def test_export_follows_the_default_ordering(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        rows = json.loads(client.get(f"{URL}/export?format=json").text)
        assert [r["name"] for r in rows] == [f"Gadget {n}" for n in range(7, 0, -1)]


def test_export_follows_the_sort_asked_for(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get(f"{URL}?o=price")
        link = re.search(r'href="(/admin/uifix/uigadget/export[^"]*format=csv[^"]*)"', page.text)
        assert link is not None
        assert "o=price" in link.group(1)
        text = client.get(html.unescape(link.group(1))).text
        names = [line.split(",")[0] for line in text.splitlines()[1:]]
        assert names == [f"Gadget {n}" for n in range(1, 8)]
        rows = json.loads(client.get(f"{URL}/export?format=json&o=-price").text)
        assert [r["name"] for r in rows] == [f"Gadget {n}" for n in range(7, 0, -1)]


def test_export_in_list_order_reads_in_batches(db: Database, monkeypatch: Any) -> None:
    monkeypatch.setattr("trivium.admin._export.BATCH", 2)
    with client_as(db, "root@example.com") as client:
        rows = json.loads(client.get(f"{URL}/export?format=json&o=-price").text)
        assert [r["name"] for r in rows] == [f"Gadget {n}" for n in range(7, 0, -1)]
        # a nullable sort column pages by offset: still every row once, in order
        rows = json.loads(client.get(f"{URL}/export?format=json&o=released,name").text)
        assert sorted(r["name"] for r in rows) == [f"Gadget {n}" for n in range(1, 8)]


# Enter in an editable cell saves; running an action warns about unsaved edits -----------


def test_save_is_the_first_submit_button_of_an_editable_list(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        form = client.get(URL).text.split('id="changelist-form"', 1)[1]
        first = re.search(r"<button[^>]*>", form)
        assert first is not None
        assert 'name="_save"' in first.group(0)  # Enter in a cell submits Save, not "Go"
        assert 'name="index"' in form  # the actions' Go is still there


# In Chromium (Playwright), the page's form and admin.js answered by the test client --------

CHROMIUM = os.environ.get("TRIVIUM_TEST_CHROMIUM", "/usr/bin/chromium")
BASE = "http://testserver"


def _prices_now(db: Database) -> dict[int, decimal.Decimal]:
    # Playwright's sync API runs an event loop in this thread: read from another one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, _prices, db).result()


def _serve_from(client: Any) -> Any:
    def handle(route: Any) -> None:
        request = route.request
        headers = {k: v for k, v in request.headers.items() if k in ("content-type", "accept")}
        answer = client.request(
            request.method,
            request.url.removeprefix(BASE),
            content=request.post_data_buffer,
            headers=headers,
            follow_redirects=True,  # a fulfilled redirect's next request is not routed
        )
        route.fulfill(status=answer.status_code, headers=dict(answer.headers), body=answer.content)

    return handle


@pytest.mark.skipif(
    sync_playwright is None or not Path(CHROMIUM).exists(),
    reason=f"no Playwright or Chromium at {CHROMIUM}",
)
def test_enter_in_a_cell_saves_and_an_action_asks_before_dropping_edits(db: Database) -> None:
    with client_as(db, "root@example.com") as client, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page()
            page.route(f"{BASE}/**", _serve_from(client))
            dialogs: list[str] = []
            answers = iter([False, True])

            def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                if next(answers):
                    dialog.accept()
                else:
                    dialog.dismiss()

            page.on("dialog", on_dialog)
            page.goto(f"{BASE}{URL}")
            # Enter in the last row's price saves it (it is not the actions' "Go").
            page.fill('input[name="form-3-price"]', "77.00")
            with page.expect_navigation():
                page.press('input[name="form-3-price"]', "Enter")
            expect(page.locator(".messages")).to_contain_text(
                "1 ui gadget object was changed successfully."
            )
            assert _prices_now(db)[3] == decimal.Decimal("77.00")
            # An edited cell, then an action: asked first; "Cancel" stays on the page.
            page.fill('input[name="form-7-price"]', "1.00")
            page.check('input[name="_selected"][value="7"]')
            page.select_option("#action", "delete_selected")
            page.click('button[name="index"]')
            assert dialogs == [
                "You have unsaved changes on individual editable fields. "
                "If you run an action, your unsaved changes will be lost."
            ]
            assert page.locator("text=Are you sure").count() == 0
            # "OK" runs the action (its confirmation page) and drops the edit.
            with page.expect_navigation():
                page.click('button[name="index"]')
            expect(page.locator("h1")).to_contain_text("Are you sure")
            assert len(dialogs) == 2
            assert _prices_now(db)[7] == decimal.Decimal(70)
        finally:
            browser.close()
