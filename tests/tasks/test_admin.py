"""The admin's Tasks page: runs with their errors, retry and cancel, for the right users."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
import tests.admin.adminapp  # noqa: F401 - registers the admin test tables
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import grant
from tests.admin.adminapp import log_in
from tests.admin.adminapp import seed
from tests.auth.conftest import _server_databases
from tests.auth.conftest import db
from tests.auth.conftest import db_url

from trivium import App
from trivium.admin import Admin
from trivium.admin import AdminPage
from trivium.auth import Auth
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.stores import MemoryStore
from trivium.tasks import Tasks
from trivium.testing import TestClient

__all__ = ["_server_databases", "db", "db_url"]


def _app(db: Database) -> tuple[App, Tasks]:
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    tasks = Tasks()
    app = App(plugins=[db, auth, Admin(db, auth), tasks])
    attempts: list[int] = []

    @tasks.task(name="flaky")
    async def flaky() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")

    @app.post("/work")
    async def work() -> dict[str, str]:
        return {"id": (await flaky.options(priority=7).enqueue()).id}

    return app, tasks


def _wait(tasks: Tasks, task_id: str, state: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        info = anyio.run(tasks.get, task_id)
        if info is not None and info.state == state:
            return
        time.sleep(0.02)
    raise AssertionError(f"run {task_id} never reached {state}")


@pytest.fixture
def seeded(db: Database) -> Database:
    anyio.run(seed, db, 0)
    return db


def test_superuser_sees_failed_run_and_retries_it(seeded: Database) -> None:
    app, tasks = _app(seeded)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, "root@example.com")
        task_id = client.post("/work").json()["id"]
        _wait(tasks, task_id, "failed")
        assert 'href="/admin/tasks"' in client.get("/admin").text
        listing = client.get("/admin/tasks", params={"state": "failed"})
        assert listing.status_code == 200
        assert task_id in listing.text
        assert "RuntimeError: first attempt fails" in listing.text
        assert '<td class="priority">7</td>' in listing.text
        answer = client.post(
            "/admin/tasks",
            data={"id": task_id, "action": "retry", "csrf_token": csrf_of(listing)},
        )
        assert answer.status_code == 303
        _wait(tasks, task_id, "done")


def test_staff_need_the_permission(seeded: Database) -> None:
    app, _ = _app(seeded)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, "staff@example.com")
        assert client.get("/admin/tasks").status_code == 403
        assert 'href="/admin/tasks"' not in client.get("/admin").text
    anyio.run(grant, seeded, "staff@example.com", "tasks.manage_tasks")
    app, _ = _app(seeded)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, "staff@example.com")
        assert client.get("/admin/tasks").status_code == 200


def test_anonymous_users_go_to_the_login_page(seeded: Database) -> None:
    app, _ = _app(seeded)
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/admin/tasks").status_code in (302, 303)


def test_admin_pages_need_distinct_fixed_paths() -> None:
    async def view(request: Any) -> dict[str, Any]:
        return {}

    with pytest.raises(ConfigurationError, match="admin-page"):
        AdminPage("/reports/{id}", "Reports", view=view, template="x.html")
    memory = Database("sqlite+aiosqlite://")
    admin = Admin(memory, Auth(memory, secret_key=SECRET, session_store=MemoryStore()))
    admin.add_page(AdminPage("/reports", "Reports", view=view, template="x.html"))
    with pytest.raises(ConfigurationError, match="admin-page"):
        admin.add_page(AdminPage("/reports", "Other", view=view, template="y.html"))
