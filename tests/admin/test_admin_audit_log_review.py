"""The audit log and history pages: a stable author (name and id), pages full of visible entries."""

from __future__ import annotations

import re

import anyio
from sqlalchemy import select
from sqlalchemy import update
from tests.admin.adminapp import Article
from tests.admin.adminapp import Writer
from tests.admin.adminapp import twin
from tests.admin.test_admin_history import client_as
from tests.admin.test_admin_history import edit

from trivium.audit import Audit
from trivium.auth import User
from trivium.db import Database


async def _rename(db: Database, email: str, new: str) -> None:
    db = twin(db)
    async with db.sessionmaker() as session:
        await session.execute(update(User).where(User.email == email).values(email=new))
        await session.commit()
    await db.dispose()


def test_the_author_is_shown_with_the_id_renaming_cannot_change(db: Database) -> None:
    with client_as(db, "staff@example.com", "blog.change_article", "admin.view_auditlog") as client:
        edit(client, 1, "Edited by staff")
        staff_id = re.search(r"\(#(\d+)\)", client.get("/admin/blog/article/1/history").text)
        assert staff_id is not None
        anyio.run(_rename, db, "staff@example.com", "victim@corp.com")
        for url in ("/admin/blog/article/1/history", "/admin/audit"):
            page = client.get(url)
            assert page.status_code == 200
            # The name is today's, the id the author's own: renamed, still told apart.
            assert f"<td>victim@corp.com (#{staff_id.group(1)})</td>" in page.text


async def _writes(db: Database, model: type, pk: int, count: int) -> None:
    """`count` audited updates of one row (each its own entry), made by a script."""
    db = twin(db)
    trail = Audit(db, models=[model])
    try:
        async with db.sessionmaker() as session:
            row = await session.scalar(select(model).where(model.id == pk))  # type: ignore[attr-defined]
            for number in range(count):
                if model is Article:
                    row.title = f"Title {number}"
                else:
                    row.name = f"Name {number}"
                await session.commit()
    finally:
        trail.close()
        await db.dispose()


def _rows(text: str) -> int:
    return text.count("<td>update</td>")


def test_a_staff_users_log_page_is_filled_with_the_entries_they_may_see(db: Database) -> None:
    perms = ("blog.view_article", "admin.view_auditlog")
    with client_as(db, "staff@example.com", *perms) as client:
        anyio.run(_writes, db, Article, 1, 3)
        anyio.run(_writes, db, Writer, 1, 60)  # newer, and not for this user's eyes
        page = client.get("/admin/audit")
        assert page.status_code == 200
        assert "No entries." not in page.text
        assert _rows(page.text) == 3
        assert "Older entries" not in page.text
        assert "/admin/blog/writer/" not in page.text  # no writer entry, nor its link


def test_the_next_link_appears_only_when_there_are_more_entries(db: Database) -> None:
    perms = ("blog.view_article", "admin.view_auditlog")
    with client_as(db, "staff@example.com", *perms) as client:
        anyio.run(_writes, db, Article, 1, 50)
        page = client.get("/admin/audit")
        assert _rows(page.text) == 50
        assert "Older entries" not in page.text  # exactly one page: no empty next one
        anyio.run(_writes, db, Article, 2, 1)
        anyio.run(_writes, db, Writer, 1, 5)
        first = client.get("/admin/audit")
        assert _rows(first.text) == 50
        link = re.search(r'<a rel="next" href="([^"]+)"', first.text)
        assert link is not None
        second = client.get(link.group(1).replace("&amp;", "&"))
        assert _rows(second.text) == 1
        assert "Older entries" not in second.text
