"""Deletes leave referencing rows to the foreign keys; `Versioned` writes without If-Match all succeed."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from tests.db.crud_models import SUFFIX

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Versioned
from trivium.db import crud_router
from trivium.testing import AsyncTestClient
from trivium.testing import TestClient


class Squad(IntPK, Model):
    __tablename__ = f"crud_team_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(20))
    members: Mapped[list[Recruit]] = relationship(back_populates="team")


class Recruit(IntPK, Model):
    __tablename__ = f"crud_member_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey(Squad.id), default=None)
    team: Mapped[Squad | None] = relationship(back_populates="members")


class Keeper(IntPK, Model):
    __tablename__ = f"crud_owner_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(20))
    pets: Mapped[list[Critter]] = relationship()


class Critter(IntPK, Model):
    __tablename__ = f"crud_pet_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int] = mapped_column(ForeignKey(Keeper.id))


class Record(IntPK, Model):
    __tablename__ = f"crud_album_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(20))
    tracks: Mapped[list[Song]] = relationship(cascade="all, delete-orphan")


class Song(IntPK, Model):
    __tablename__ = f"crud_track_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(20))
    album_id: Mapped[int] = mapped_column(ForeignKey(Record.id))


class Leaf(IntPK, Versioned, Model):
    __tablename__ = f"crud_vpage_{SUFFIX}"
    text: Mapped[str] = mapped_column(String(40))


def _app(db: Database) -> App:
    app = App()
    db.init_app(app)
    for model, prefix in (
        (Squad, "/teams"),
        (Recruit, "/members"),
        (Keeper, "/owners"),
        (Critter, "/pets"),
        (Record, "/albums"),
        (Song, "/tracks"),
        (Leaf, "/pages"),
    ):
        app.include_router(crud_router(model, db, prefix=prefix))
    return app


@pytest.mark.parametrize(
    ("parents", "children", "key"),
    [("/teams", "/members", "team_id"), ("/owners", "/pets", "owner_id")],
)
def test_deleting_a_parent_with_related_children_is_a_409_that_leaves_them(
    db: Database, parents: str, children: str, key: str
) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        parent = client.post(parents, json={"name": "p"}).json()
        child = client.post(children, json={"name": "c", key: parent["id"]}).json()
        refused = client.delete(f"{parents}/{parent['id']}")
        still = client.get(f"{parents}/{parent['id']}")
        kept = client.get(f"{children}/{child['id']}")
    assert refused.status_code == 409, refused.text
    assert "is still referenced by" in refused.json()["detail"]
    assert still.status_code == 200
    assert kept.json()[key] == parent["id"]


def test_deleting_a_parent_without_children_is_a_204(db: Database) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        team = client.post("/teams", json={"name": "t"}).json()
        deleted = client.delete(f"/teams/{team['id']}")
        again = client.delete(f"/teams/{team['id']}")
        gone = client.get(f"/teams/{team['id']}")
    assert deleted.status_code == 204, deleted.text
    assert again.status_code == 404
    assert gone.status_code == 404


def test_a_relationship_delete_cascade_still_deletes_the_children(db: Database) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        album = client.post("/albums", json={"name": "a"}).json()
        track = client.post("/tracks", json={"name": "t", "album_id": album["id"]}).json()
        deleted = client.delete(f"/albums/{album['id']}")
        gone = client.get(f"/tracks/{track['id']}")
    assert deleted.status_code == 204, deleted.text
    assert gone.status_code == 404


def test_a_versioned_delete_with_a_stale_if_match_is_still_a_412(db: Database) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        page = client.post("/pages", json={"text": "v1"})
        url = f"/pages/{page.json()['id']}"
        client.patch(url, json={"text": "v2"})
        stale = client.delete(url, headers={"if-match": page.headers["etag"]})
        fresh = client.delete(url, headers={"if-match": client.get(url).headers["etag"]})
    assert stale.status_code == 412, stale.text
    assert fresh.status_code == 204, fresh.text


@pytest.mark.anyio
async def test_concurrent_versioned_writes_without_if_match_all_succeed(db: Database) -> None:
    writers = 10
    async with AsyncTestClient(_app(db)) as client:
        page = (await client.post("/pages", json={"text": "v0"})).json()
        url = f"/pages/{page['id']}"
        statuses: list[int] = []

        async def write(n: int) -> None:
            statuses.append((await client.patch(url, json={"text": f"w{n}"})).status_code)

        async with anyio.create_task_group() as tg:
            for n in range(writers):
                tg.start_soon(write, n)
        final = (await client.get(url)).json()
    assert statuses == [200] * writers
    assert final["version"] == page["version"] + writers
