"""Run the code blocks of docs/database.md, in order, as the page promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).parents[2] / "docs" / "database.md"

DRIVER = """
import anyio

from doc_app import *  # noqa: F403

{testing}

async def main() -> None:
    await db.drop_all()
    await db.create_all()
    async with db.sessionmaker() as session:
        await tour(session)
        await session.commit()
        assert await import_titles(session, ["a", " ", "b"]) == 2
        await session.commit()
        assert await Article.objects(session).count() == 3
        first = await Article.objects(session).order_by("id").first()
        row = await title_by_id.first(article_id=first.id)
        assert tuple(row) == (first.title, first.likes)
        assert await title_by_id.first(article_id=-1) is None
    await db.dispose()

anyio.run(main)
from trivium.testing import TestClient

with TestClient(app) as client:
    saved = client.post("/articles/drafts", params={{"title": "draft"}})
    assert (saved.status_code, saved.json()) == (201, {{"status": "saved"}}), saved.text
    listed = client.get("/articles").json()
    assert "draft" in [article["title"] for article in listed["items"]], listed
print("docs ok")
"""


def test_database_page_examples_run(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    assert len(blocks) == 8
    *app_blocks, testing = blocks
    (tmp_path / "doc_app.py").write_text("\n".join(app_blocks))
    (tmp_path / "driver.py").write_text(DRIVER.format(testing=testing))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(  # noqa: S603 - runs our own page
        [sys.executable, "-W", "error", "driver.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("docs ok")
    assert (tmp_path / "app.db").exists()
