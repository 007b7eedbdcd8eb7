"""A notes API whose every write is audited: history per note, a global log, revert.

Run it with `trivium run examples.audit.app:app`. Set `AUDIT_DATABASE_URL` to use
PostgreSQL or MariaDB instead of `./audit.db`.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import AsyncIterator
from typing import Annotated
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium.audit import Audit
from trivium.audit import AuditEntry
from trivium.audit import AuditEntryRead
from trivium.auth import Auth
from trivium.auth import require_staff
from trivium.auth import require_user
from trivium.db import NAMING_CONVENTION
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import crud_router


class Base(Model):
    """The example's own table collection (the test suite shares `Model.metadata`)."""

    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# --8<-- [start:setup]
class Note(IntPK, Base):
    __tablename__ = "notes"

    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(String(2000), default="")
    share_code: Mapped[str] = mapped_column(String(40), default="", info={"secret": True})


def create_app(url: str, secret_key: str) -> App:
    """Build the notes API on the database at `url` (tables created at start-up)."""
    db = Database(url)
    auth = Auth(db, secret_key=secret_key)
    audit = Audit(db, retention=datetime.timedelta(days=365))
    # --8<-- [end:setup]

    @contextlib.asynccontextmanager
    async def tables(app: App) -> AsyncIterator[dict[str, Any]]:
        del app
        # First steps; a project runs `trivium db migrate` (auth and audit tables included).
        await db.create_all()  # the auth tables and the audit trail's
        await db.create_all(Base.metadata)
        yield {}

    app = App(lifespan=tables, plugins=[db, auth, audit])
    # --8<-- [start:routes]
    writers = [Depends(require_user)]
    app.include_router(crud_router(Note, db, prefix="/notes", dependencies=writers))

    @app.get("/notes/{note_id}/history", dependencies=writers)
    async def history(note_id: int, session: AsyncSession = db.depends()) -> list[AuditEntryRead]:
        entries = await audit.history(session, Note, note_id)
        return [AuditEntryRead.model_validate(entry) for entry in entries]

    @app.get("/audit", dependencies=[Depends(require_staff)])
    async def log(
        session: AsyncSession = db.depends(), before: int | None = None, action: str | None = None
    ) -> list[AuditEntryRead]:
        if action not in (None, "create", "update", "delete"):
            raise HTTPException(400, "action is one of create, update, delete")
        entries = await audit.log(session, limit=20, before=before, action=action)
        return [AuditEntryRead.model_validate(entry) for entry in entries]

    @app.post("/audit/{entry_id}/revert")
    async def revert(
        entry_id: int,
        staff: Annotated[Any, Depends(require_staff)],
        session: AsyncSession = db.depends(),
    ) -> dict[str, Any]:
        entry = await session.get(AuditEntry, entry_id)
        if entry is None:
            raise HTTPException(404, "no such audit entry")
        note = await audit.revert(session, entry, actor=staff)
        return {"restored": note is not None}

    # --8<-- [end:routes]
    return app


app = create_app(
    os.environ.get("AUDIT_DATABASE_URL", "sqlite+aiosqlite:///./audit.db"),
    os.environ.get("AUDIT_SECRET_KEY", "dev-only-secret-key-change-me-0123456789abcdef"),
)
