"""A Django project mounted inside trivium, partly migrated.

Everything trivium has no route for goes to Django (`Legacy`: the fallback mount). The
JSON API is new in trivium and uses Django's models from sync handlers; the note page
moves behind a canary header (`x-trivium: 1`) while Django keeps serving everyone else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel
from pydantic import Field

from trivium import App
from trivium import HTTPException
from trivium.interop import Legacy


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = ""


class NoteOut(BaseModel):
    id: int
    title: str
    body: str


# --8<-- [start:orm]
@contextmanager
def django_orm() -> Iterator[None]:
    """Use Django's ORM in this thread the way a Django request does.

    Sync trivium handlers run in a thread pool, and Django keeps one connection per
    thread: close the ones past their age before and after, as Django's request signals do.
    """
    from django.db import close_old_connections

    close_old_connections()
    try:
        yield
    finally:
        close_old_connections()


# --8<-- [end:orm]


# --8<-- [start:app]
def make_app(database: Path) -> App:
    from examples.migrate_django.legacy.project import setup

    legacy = Legacy(setup(database), workers=8)  # Django's models are importable from here on
    from examples.migrate_django.legacy.models import Note

    app = App(plugins=[legacy])

    @app.get("/api/notes")
    def list_notes() -> list[NoteOut]:  # a sync handler: Django's ORM is sync
        with django_orm():
            return [NoteOut(**note.as_dict()) for note in Note.objects.all()]

    @app.post("/api/notes", status_code=201)
    def create_note(data: NoteIn) -> NoteOut:
        from django.db import transaction

        with django_orm(), transaction.atomic():
            note = Note.objects.create(title=data.title, body=data.body)
            if Note.objects.filter(title=data.title).count() > 1:
                raise HTTPException(409, "a note with this title exists")  # rolled back
            return NoteOut(**note.as_dict())

    # The note page, migrated: trivium answers when the canary header asks for it.
    canary = legacy.router(percent=0, header="x-trivium")

    @canary.get("/notes/{note_id:int}/")  # digits only: /notes/new/ stays Django's
    def note_detail(note_id: int) -> NoteOut:
        with django_orm():
            note = Note.objects.filter(id=note_id).first()
        if note is None:
            raise HTTPException(404, "No such note")
        return NoteOut(**note.as_dict())

    app.include_router(canary)
    return app


# --8<-- [end:app]
