"""A small project the test-database plugin is tried on (copied into a temporary folder)."""

from typing import Annotated

from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from notes.settings import Settings
from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium.auth import Auth
from trivium.auth import CurrentUser
from trivium.conf import get_settings
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import integrity_error_handler


class Note(IntPK, Model):
    __tablename__ = "plugin_note"
    text: Mapped[str] = mapped_column(String(200), unique=True)


def greeting(settings: Annotated[Settings, Depends(get_settings)]) -> str:
    return settings.greeting


def create_app(settings: Settings) -> App:
    db = Database.from_settings(settings)
    auth = Auth.from_settings(db, settings)
    app = App(
        debug=settings.debug,
        plugins=[settings, db, auth],
        exception_handlers={IntegrityError: integrity_error_handler},
    )
    Session = Annotated[AsyncSession, db.depends()]

    @app.post("/notes", status_code=201)
    async def add(text: str, session: Session) -> dict[str, object]:
        note = Note(text=text)
        session.add(note)
        await session.flush()
        return {"id": note.id, "text": note.text}

    @app.post("/notes/twice")
    async def twice(text: str, session: Session) -> None:
        session.add(Note(text=text))
        await session.commit()  # committed halfway, then the request fails
        raise HTTPException(409, "refused after a commit")

    @app.get("/notes")
    async def notes(session: Session) -> list[str]:
        return [note.text for note in await Note.objects(session).order_by("id").all()]

    @app.get("/greeting")
    async def greet(text: Annotated[str, Depends(greeting)]) -> str:
        return text

    @app.get("/mine")
    async def mine(user: CurrentUser) -> str:
        return str(user.email)

    return app
