"""The admin example over HTTP: log in, list, search, add, run an action, export."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import httpx

from examples.admin.app import Author
from examples.admin.app import Post
from examples.admin.app import create_app
from trivium.auth import create_superuser
from trivium.db import Database
from trivium.stores import MemoryStore
from trivium.testing import TestClient

PASSWORD = "a long and private passphrase"


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


async def prepare(url: str) -> None:
    db = Database(url)
    await db.create_all()
    async with db.sessionmaker() as session:
        await create_superuser(session, email="admin@example.com", password=PASSWORD)
        author = Author(name="Ursula")
        session.add_all([Post(title="Hello", author=author), Post(title="Draft", author=author)])
        await session.commit()
    await db.dispose()


def test_the_admin_walkthrough(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'blog.db'}"
    anyio.run(prepare, url)
    app = create_app(url, session_store=MemoryStore())
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/admin").headers["location"].startswith("/admin/accounts/login")
        login = client.get("/admin/accounts/login")
        client.post(
            "/admin/accounts/login",
            data={
                "identifier": "admin@example.com",
                "password": PASSWORD,
                "csrf_token": csrf_of(login),
            },
        )
        listing = client.get("/admin/blog/post")
        assert listing.status_code == 200
        assert ">Hello</a>" in listing.text
        assert "<td>Ursula</td>" in listing.text
        found = client.get("/admin/blog/post?q=hell")
        assert ">Hello</a>" in found.text
        assert ">Draft</a>" not in found.text
        form = client.get("/admin/blog/post/add")
        added = client.post(
            "/admin/blog/post/add",
            data={"title": "New", "author_id": "1", "csrf_token": csrf_of(form)},
        )
        assert added.status_code == 303
        hits = client.get("/admin/blog/author/autocomplete/posts?q=urs")
        assert hits.status_code == 404  # only the post's author field autocompletes
        authors = client.get("/admin/blog/post/autocomplete/author_id?q=urs")
        assert authors.json() == {"results": [{"id": "1", "text": "Ursula"}], "more": False}
        action = client.post(
            "/admin/blog/post",
            data={"action": "publish", "select_across": "1", "csrf_token": csrf_of(listing)},
        )
        assert action.status_code == 303
        published = client.get("/admin/blog/post?published__exact=1")
        assert "3 post objects" in published.text
        export = client.get("/admin/blog/post/export?format=csv&q=new")
        lines = export.text.splitlines()
        assert lines[0] == "title,author name,published,created at"
        assert len(lines) == 2
        assert lines[1].startswith("New,Ursula,True,")
