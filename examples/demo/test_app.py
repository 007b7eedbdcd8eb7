from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from examples.demo.app import create_app
from examples.demo.config import DEMO_EMAIL
from examples.demo.config import DEMO_PASSWORD
from trivium.auth import create_user
from trivium.db import Database
from trivium.testing import TestClient

HTML = {"accept": "text/html"}


# --8<-- [start:fixture]
@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    # `with` runs the lifespan: the app migrates its fresh database and adds the demo
    # user before the first request, and closes the database when the block ends.
    app = create_app(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    with TestClient(app) as client:
        yield client


# --8<-- [end:fixture]


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, "no CSRF field in the page"
    return match.group(1)


def log_in(client: TestClient, password: str = DEMO_PASSWORD) -> str:
    """Log in through the login page; return a CSRF token of the new session."""
    token = csrf_token(client.get("/login").text)
    data = {"email": DEMO_EMAIL, "password": password, "csrf_token": token}
    client.post("/login", data=data)
    return csrf_token(client.get("/todos/new").text)


def add_todo(client: TestClient, token: str, **fields: str) -> None:
    data = {"title": "Water the plants", "csrf_token": token, **fields}
    assert client.post("/todos/new", data=data).status_code == 200


def test_index_page_links_to_the_endpoints_and_names_the_demo_user(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    for link in ('href="/docs"', 'href="/health"', 'href="/todos"', 'href="/api/todos"'):
        assert link in response.text
    assert "/ws/echo" in response.text
    assert DEMO_EMAIL in response.text
    assert DEMO_PASSWORD in response.text


def test_api_docs_show_the_crud_api_but_not_the_pages(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {"/api/todos", "/api/todos/{id}", "/health", "/events/clock"} <= paths
    assert not {"/todos", "/login", "/todos/{todo_id}/edit"} & paths


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


# API ---------------------------------------------------------------------------------


def test_api_lists_an_empty_page_at_first(client: TestClient) -> None:
    log_in(client)
    assert client.get("/api/todos").json() == {
        "items": [],
        "total": 0,
        "page": 1,
        "size": 20,
        "pages": 1,
    }


def test_api_needs_a_login(client: TestClient) -> None:
    for response in (
        client.post("/api/todos", json={"title": "Sneak in"}),
        client.get("/api/todos"),
    ):
        assert response.status_code == 401
        assert response.json() == {"detail": "Not authenticated"}
        assert response.headers["www-authenticate"] == "Bearer"
        # Rate limited per user (anonymous: per address), and said so on a 401 too.
        assert response.headers["ratelimit-limit"] == "120"
    assert response.headers["ratelimit-remaining"] == "118"


def test_api_crud_round_trip_with_a_session_and_the_csrf_header(client: TestClient) -> None:
    token = log_in(client)
    headers = {"x-csrf-token": token}
    body = {"title": "Write docs", "due": "2030-01-31", "priority": "high"}
    created = client.post("/api/todos", json=body, headers=headers)
    assert created.status_code == 201
    todo = created.json()
    assert created.headers["location"] == f"/api/todos/{todo['id']}"
    assert todo["done"] is False
    assert todo["notes"] == ""
    assert todo["owner_id"] == client.get("/auth/me").json()["id"]  # set by the API
    assert {"created_at", "updated_at"} <= set(todo)
    url = f"/api/todos/{todo['id']}"
    patched = client.patch(url, json={"done": True}, headers=headers).json()
    assert (patched["done"], patched["title"]) == (True, "Write docs")
    listed = client.get("/api/todos", params={"done": "true", "priority": "high"}).json()
    assert [item["id"] for item in listed["items"]] == [todo["id"]]
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url).status_code == 404


def test_api_write_with_the_session_but_without_the_csrf_header_is_a_403(
    client: TestClient,
) -> None:
    log_in(client)
    response = client.post("/api/todos", json={"title": "Forged"})
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF token missing"}


# The auth battery's JSON views, mounted at /auth --------------------------------------


def test_auth_me_shows_the_user_logged_in_through_the_json_view(client: TestClient) -> None:
    assert client.get("/auth/me").status_code == 401
    credentials = {"identifier": DEMO_EMAIL, "password": DEMO_PASSWORD}
    logged_in = client.post("/auth/login", json=credentials)
    assert logged_in.status_code == 200
    me = client.get("/auth/me").json()
    assert (me["email"], me["is_staff"]) == (
        DEMO_EMAIL,
        True,
    )  # staff: the demo user may use /admin
    assert "password" not in me


# --8<-- [start:auth-views]
def test_an_api_token_made_through_the_auth_views_writes_to_the_api(client: TestClient) -> None:
    log_in(client)
    csrf = {"x-csrf-token": client.get("/auth/csrf").json()["csrf_token"]}
    created = client.post("/auth/tokens", json={"name": "script"}, headers=csrf)
    assert created.status_code == 201
    key = created.json()["token"]
    assert key.startswith("trv_")
    client.cookies.clear()  # a script: no session, no CSRF token, just the key
    response = client.post(
        "/api/todos", json={"title": "Sent by a script"}, headers={"Authorization": f"Token {key}"}
    )
    assert response.status_code == 201
    listed = client.get("/auth/tokens", headers={"Authorization": f"Token {key}"}).json()
    assert [token["name"] for token in listed] == ["script"]


# --8<-- [end:auth-views]


def test_api_docs_list_the_auth_views_and_their_errors(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert {"/auth/login", "/auth/me", "/auth/tokens"} <= set(document["paths"])
    assert set(document["paths"]["/auth/me"]["get"]["responses"]) == {"200", "401"}
    assert "204" in document["paths"]["/auth/logout"]["post"]["responses"]


def test_api_docs_let_swagger_authorize_the_todo_api(client: TestClient) -> None:
    # The guard documents its scheme, so "Authorize" in /docs applies to the API.
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/todos", "/api/todos/{id}"):
        for method, operation in paths[path].items():
            assert operation.get("security") == [{"TriviumAuth": []}], (method, path)


def test_api_validates_bodies(client: TestClient) -> None:
    headers = {"x-csrf-token": log_in(client)}
    response = client.post("/api/todos", json={"title": "", "priority": "urgent"}, headers=headers)
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert locs == [["body", "title"], ["body", "priority"]]
    response = client.post("/api/todos", json={"title": "x", "owner_id": 1}, headers=headers)
    assert response.status_code == 422  # read-only fields are refused, not ignored


def test_api_unknown_todo_is_a_json_404(client: TestClient) -> None:
    log_in(client)
    response = client.get("/api/todos/999")
    assert response.status_code == 404
    assert response.json() == {"detail": "Todo 999 not found"}


# Pages -------------------------------------------------------------------------------


def test_list_page_says_when_there_is_nothing_to_do(client: TestClient) -> None:
    log_in(client)
    response = client.get("/todos")
    assert response.status_code == 200
    assert "Nothing to do." in response.text


@pytest.mark.parametrize("path", ["/todos/new", "/todos", "/todos/1"])
def test_pages_redirect_anonymous_visitors_to_the_login_page(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


def test_login_with_a_wrong_password_redraws_the_form_with_a_422(client: TestClient) -> None:
    token = csrf_token(client.get("/login").text)
    data = {"email": DEMO_EMAIL, "password": "wrong", "csrf_token": token}
    response = client.post("/login", data=data)
    assert response.status_code == 422
    assert "do not match" in response.text
    assert f'value="{DEMO_EMAIL}"' in response.text


def test_login_goes_to_next_and_flashes_a_welcome(client: TestClient) -> None:
    token = csrf_token(client.get("/login").text)
    data = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrf_token": token}
    response = client.post("/login?next=/todos/new", data=data, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/todos/new")
    page = client.get("/todos/new").text
    assert f"Welcome, {DEMO_EMAIL}." in page
    assert 'id="whoami"' in page


def test_login_never_redirects_off_site(client: TestClient) -> None:
    token = csrf_token(client.get("/login").text)
    data = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrf_token": token}
    response = client.post("/login?next=//evil.example/", data=data, follow_redirects=False)
    assert response.headers["location"] == "/todos"


def test_invalid_form_is_redrawn_with_errors_and_the_values_typed(client: TestClient) -> None:
    token = log_in(client)
    data = {"title": "   ", "notes": "keep me", "priority": "high", "csrf_token": token}
    response = client.post("/todos/new", data=data)
    assert response.status_code == 422
    assert "This field is required." in response.text  # spaces only
    assert "keep me</textarea>" in response.text
    assert '<option value="high" selected>' in response.text
    assert "Nothing to do." in client.get("/todos").text


def test_create_redirects_to_the_list_with_a_flash(client: TestClient) -> None:
    token = log_in(client)
    response = client.post("/todos/new", data={"title": "Water the plants", "csrf_token": token})
    assert response.status_code == 200
    assert str(response.url).endswith("/todos")
    assert "Added “Water the plants”." in response.text
    assert client.get("/todos").text.count("Added") == 0  # a flash shows once
    [item] = client.get("/api/todos").json()["items"]
    assert item["owner_id"] is not None  # pages record who added it


def test_detail_edit_and_delete(client: TestClient) -> None:
    token = log_in(client)
    add_todo(client, token, notes="twice a week")
    [item] = client.get("/api/todos").json()["items"]
    detail = client.get(f"/todos/{item['id']}")
    assert "twice a week" in detail.text
    assert DEMO_EMAIL in detail.text  # "Added by"
    edit_url = f"/todos/{item['id']}/edit"
    assert 'value="Water the plants"' in client.get(edit_url).text
    data = {"title": "Water the garden", "done": "true", "csrf_token": token}
    saved = client.post(edit_url, data=data)
    assert "Saved “Water the garden”." in saved.text
    assert client.get(f"/api/todos/{item['id']}").json()["done"] is True
    deleted = client.post(f"/todos/{item['id']}/delete", data={"csrf_token": token})
    assert "Deleted “Water the garden”." in deleted.text
    assert client.get(f"/todos/{item['id']}", headers=HTML).status_code == 404


def test_delete_without_the_csrf_token_is_a_403(client: TestClient) -> None:
    token = log_in(client)
    add_todo(client, token)
    [item] = client.get("/api/todos").json()["items"]
    response = client.post(f"/todos/{item['id']}/delete", data={})
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF token missing"}
    assert client.get(f"/api/todos/{item['id']}").status_code == 200


def test_unknown_todo_page_is_an_html_404_for_browsers(client: TestClient) -> None:
    log_in(client)
    response = client.get("/todos/999", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no to-do 999." in response.text


def test_logout_ends_the_session(client: TestClient) -> None:
    token = log_in(client)
    response = client.post("/logout", data={"csrf_token": token})
    assert "You are logged out." in response.text
    assert client.get("/todos/new", follow_redirects=False).status_code == 303


# Ownership: each user sees and changes only their own to-dos ---------------------------

MALLORY = {"identifier": "mallory@example.com", "password": "mallory's long passphrase"}


async def _add_mallory(url: str) -> None:
    db = Database(url)  # the app's database file, through an engine of our own
    async with db.sessionmaker() as session, session.begin():
        await create_user(session, email=MALLORY["identifier"], password=MALLORY["password"])
    await db.dispose()


def _switch_to_mallory(client: TestClient) -> dict[str, str]:
    """Log Mallory in, in a fresh browser; return her CSRF header."""
    client.cookies.clear()
    assert client.post("/auth/login", json=MALLORY).status_code == 200
    return {"x-csrf-token": client.get("/auth/csrf").json()["csrf_token"]}


@pytest.fixture
def mallory(client: TestClient, tmp_path: Path) -> None:
    """A second user in the `client` fixture's database (migrated by its lifespan)."""
    del client
    anyio.run(_add_mallory, f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")


@pytest.mark.usefixtures("mallory")
def test_another_user_cannot_see_or_change_a_todo_through_the_api(client: TestClient) -> None:
    headers = {"x-csrf-token": log_in(client)}
    todo = client.post("/api/todos", json={"title": "Mine"}, headers=headers).json()
    url = f"/api/todos/{todo['id']}"
    headers = _switch_to_mallory(client)
    assert client.get("/api/todos").json()["items"] == []
    assert client.get(url).status_code == 404
    assert client.patch(url, json={"title": "Hers now"}, headers=headers).status_code == 404
    assert client.put(url, json={"title": "Hers now"}, headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    own = client.post("/api/todos", json={"title": "Hers"}, headers=headers).json()
    assert own["owner_id"] == client.get("/auth/me").json()["id"] != todo["owner_id"]
    log_in(client)
    assert [item["title"] for item in client.get("/api/todos").json()["items"]] == ["Mine"]


@pytest.mark.usefixtures("mallory")
def test_another_user_cannot_see_or_change_a_todo_through_the_pages(client: TestClient) -> None:
    add_todo(client, log_in(client), title="Private plans")
    [todo] = client.get("/api/todos").json()["items"]
    _switch_to_mallory(client)
    token = csrf_token(client.get("/todos/new").text)
    assert "Private plans" not in client.get("/todos").text
    for path in (f"/todos/{todo['id']}", f"/todos/{todo['id']}/edit"):
        assert client.get(path, headers=HTML).status_code == 404
    edit = {"title": "Hijacked", "csrf_token": token}
    assert client.post(f"/todos/{todo['id']}/edit", data=edit, headers=HTML).status_code == 404
    delete = {"csrf_token": token}
    assert client.post(f"/todos/{todo['id']}/delete", data=delete, headers=HTML).status_code == 404
    log_in(client)
    assert client.get(f"/api/todos/{todo['id']}").json()["title"] == "Private plans"


# Websocket and server-sent events ---------------------------------------------------


# --8<-- [start:websocket]
def test_websocket_echo(client: TestClient) -> None:
    with client.websocket_connect("/ws/echo") as websocket:
        websocket.send_text("hello")
        assert websocket.receive_text() == "echo: hello"
        websocket.send_text("again")
        assert websocket.receive_text() == "echo: again"


# --8<-- [end:websocket]


# --8<-- [start:sse]
def test_clock_streams_server_sent_events(client: TestClient) -> None:
    with client.stream("GET", "/events/clock", params={"count": 3, "interval": 0}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    events = [block for block in body.split("\n\n") if block]
    assert len(events) == 3
    assert events[0].splitlines()[:2] == ["event: tick", "id: 1"]
    assert events[2].splitlines()[-1].startswith('data: {"n":3,')


# --8<-- [end:sse]


def test_clock_validates_its_query(client: TestClient) -> None:
    response = client.get("/events/clock", params={"count": 1000})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "count"]


# Admin --------------------------------------------------------------------------------


def test_the_demo_user_is_staff_and_sees_the_admin(client: TestClient) -> None:
    assert (
        client.get("/admin", follow_redirects=False)
        .headers["location"]
        .startswith("/admin/accounts/login")
    )
    token = log_in(client)
    add_todo(client, token, title="Admin me")
    login = client.get("/admin/accounts/login")
    assert login.status_code == 200
    index = client.get("/admin")
    assert index.status_code == 200
    links = re.findall(r'href="(/admin/[a-z]+/[a-z]+)"', index.text)
    assert len(links) == 2
    todos = next(link for link in links if link.endswith("/todo"))
    listing = client.get(todos + "?q=admin")
    assert listing.status_code == 200
    assert "Admin me" in listing.text
    assert DEMO_EMAIL in listing.text


def test_the_reset_mail_is_sent_from_a_background_task(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    from trivium.tasks import Tasks

    tasks = client.app.plugin(Tasks)  # type: ignore[attr-defined]
    response = client.post("/auth/password/reset", json={"email": DEMO_EMAIL})
    assert response.status_code == 202
    deadline = time.monotonic() + 10
    runs = anyio.run(tasks.list)
    while not any(run.state == "done" for run in runs) and time.monotonic() < deadline:
        time.sleep(0.02)
        runs = anyio.run(tasks.list)
    [run] = runs
    assert run.state == "done"
    assert run.name == "demo.send_mail"
    assert run.kwargs["to"] == DEMO_EMAIL
    assert run.kwargs["body"] == "[redacted]"  # the reset link stays out of the task's state
    printed = capsys.readouterr().out
    assert "Subject:" in printed
    # The console shows the link (the laptop's mail box): it sets a new password.
    found = re.search(r"^(?:\S*token=)?([\w-]+\.[\w-]+\.[\w-]+)$", printed, re.MULTILINE)
    assert found is not None, printed
    new_password = "a-brand-new-demo-password"
    confirm = {"token": found.group(1), "new_password": new_password}
    assert client.post("/auth/password/reset/confirm", json=confirm).status_code == 200
    client.cookies.clear()
    assert "Welcome" in client.get(log_in_redirect(client, new_password)).text


def log_in_redirect(client: TestClient, password: str) -> str:
    token = csrf_token(client.get("/login").text)
    data = {"email": DEMO_EMAIL, "password": password, "csrf_token": token}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def test_the_login_page_is_throttled_like_the_login_views(client: TestClient) -> None:
    token = csrf_token(client.get("/login").text)
    wrong = {"email": DEMO_EMAIL, "password": "wrong", "csrf_token": token}
    assert [client.post("/login", data=wrong).status_code for _ in range(5)] == [422] * 5
    refused = client.post("/login", data=wrong)
    assert refused.status_code == 429
    assert "Too many login attempts" in refused.text
    assert int(refused.headers["retry-after"]) > 0
    assert client.post("/login", data={**wrong, "password": DEMO_PASSWORD}).status_code == 429
    # The account is locked for the JSON login too, even with the right password.
    client.cookies.clear()  # a JSON client without the page's session (no CSRF token)
    right = {"identifier": DEMO_EMAIL, "password": DEMO_PASSWORD}
    assert client.post("/auth/login", json=right).status_code == 429


def test_the_login_page_links_to_the_password_reset(client: TestClient) -> None:
    page = client.get("/login").text
    # The demo's own reset pages, not the admin's (which end at the admin's login page,
    # where a user who is not staff is refused).
    assert 'href="/accounts/password/reset"' in page
    assert client.get("/accounts/password/reset").status_code == 200


def test_api_writes_are_in_the_audit_trail_shown_by_the_admin(client: TestClient) -> None:
    token = log_in(client)
    headers = {"x-csrf-token": token}
    todo = client.post("/api/todos", json={"title": "Audit me"}, headers=headers).json()
    client.patch(f"/api/todos/{todo['id']}", json={"title": "Audited"}, headers=headers)
    index = client.get("/admin/")
    assert index.status_code == 200
    match = re.search(r'href="(/admin/[^"/]+/todo)/?"', index.text)
    assert match is not None, "no Todo change list link on the admin index"
    history = client.get(f"{match.group(1)}/{todo['id']}/history")
    assert history.status_code == 200
    assert "Audit me" in history.text
    assert "Audited" in history.text
    assert DEMO_EMAIL in history.text  # the actor: the logged-in demo user


# --8<-- [start:assistant]
def test_the_assistant_offers_three_tools_to_an_mcp_client_with_an_api_token(
    tmp_path: Path,
) -> None:
    import anyio
    from mcp.shared.exceptions import MCPError
    from tests.ai.mcpkit import mcp_client

    app = create_app(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    with TestClient(app) as client:
        log_in(client)
        csrf = {"x-csrf-token": client.get("/auth/csrf").json()["csrf_token"]}
        key = client.post("/auth/tokens", json={"name": "agent"}, headers=csrf).json()["token"]

    async def go() -> None:
        async with mcp_client(app, headers={"Authorization": f"Token {key}"}) as mcp:
            names = sorted(tool.name for tool in (await mcp.list_tools()).tools)
            assert names == ["add_todo", "complete_todo", "list_todos"]
            added = await mcp.call_tool("add_todo", {"title": "Buy milk", "priority": "high"})
            assert added.structured_content is not None
            todo_id = added.structured_content["id"]
            done = await mcp.call_tool("complete_todo", {"todo_id": todo_id})
            assert done.structured_content is not None
            assert done.structured_content["done"] is True
            listed = await mcp.call_tool("list_todos", {"done": True})
            assert listed.structured_content is not None
            assert [t["title"] for t in listed.structured_content["result"]] == ["Buy milk"]
            other = await mcp.call_tool("complete_todo", {"todo_id": 999})
            assert other.is_error
        async with mcp_client(app) as anonymous:
            assert (await anonymous.list_tools()).tools == []
            with pytest.raises(MCPError, match="refused") as refused:
                await anonymous.call_tool("list_todos", {})
            assert refused.value.code == -32001  # not authenticated

    anyio.run(go)


# --8<-- [end:assistant]
