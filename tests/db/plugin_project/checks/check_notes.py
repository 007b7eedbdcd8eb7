from __future__ import annotations

from notes.app import Note
from notes.settings import Settings

from trivium.auth import User
from trivium.conf import get_settings
from trivium.db.testing import TEST_PASSWORD


async def test_a_write_is_seen_within_the_test(client) -> None:
    assert (await client.post("/notes", params={"text": "first"})).status_code == 201
    assert (await client.get("/notes")).json() == ["first"]


async def test_the_next_test_starts_empty(client) -> None:
    assert (await client.get("/notes")).json() == []
    assert (await client.post("/notes", params={"text": "first"})).status_code == 201


async def test_the_session_and_the_app_share_the_transaction(client, db_session) -> None:
    db_session.add(Note(text="from the test"))
    await db_session.commit()
    assert (await client.get("/notes")).json() == ["from the test"]
    await client.post("/notes", params={"text": "from the app"})
    texts = [n.text for n in await Note.objects(db_session).order_by("id").all()]
    assert texts == ["from the test", "from the app"]


async def test_code_that_commits_gets_a_savepoint(client) -> None:
    assert (await client.post("/notes/twice", params={"text": "half"})).status_code == 409
    assert (await client.get("/notes")).json() == ["half"]


async def test_a_failed_request_does_not_break_the_transaction(client) -> None:
    await client.post("/notes", params={"text": "same"})
    # The unique constraint fails inside the request: its savepoint is rolled back.
    failed = await client.post("/notes", params={"text": "same"})
    assert failed.status_code == 409
    assert (await client.get("/notes")).json() == ["same"]


async def test_the_logged_in_user(user_client, user) -> None:
    answer = await user_client.get("/mine")
    assert answer.status_code == 200
    assert answer.json() == user.email


async def test_users_do_not_leak_between_tests(db_session) -> None:
    assert await User.objects(db_session).count() == 0


async def test_anonymous_requests_are_refused(client) -> None:
    assert (await client.get("/mine")).status_code == 401


async def test_dependency_overrides_apply(app, client) -> None:
    app.dependency_overrides[get_settings] = lambda: Settings(greeting="overridden")
    assert (await client.get("/greeting")).json() == "overridden"


def test_the_settings_point_at_the_test_database(test_settings) -> None:
    assert "test" in test_settings.database_url
    assert TEST_PASSWORD
