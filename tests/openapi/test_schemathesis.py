"""Property-based conformance: schemathesis generates requests from the document of an app.

Every response must be documented (status, content type, schema) and no request may
cause a server error. Requests the schema forbids but pydantic's lax mode accepts (`false`
for an integer) are not counted as failures. The app covers the shapes the generator documents: path, query,
header and body parameters with constraints, response models, declared errors and
no-content responses.
"""

from __future__ import annotations

from typing import Annotated
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import Field

from trivium import App
from trivium import Body
from trivium import Header
from trivium import HTTPException
from trivium import Path
from trivium import Query

pytestmark = pytest.mark.drives_no_app

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=50)
    body: str = Field("", max_length=500)
    stars: int = Field(0, ge=0, le=5)


class Note(NoteIn):
    id: int


class Problem(BaseModel):
    detail: str


def notes_app() -> App:
    app = App(title="Notes")
    notes: dict[int, Note] = {1: Note(id=1, title="first")}

    @app.get("/notes", response_model=list[Note])
    def list_notes(
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
        min_stars: Annotated[int, Query(ge=0, le=5)] = 0,
    ) -> list[Note]:
        return [n for n in notes.values() if n.stars >= min_stars][:limit]

    @app.post("/notes", status_code=201)
    def create_note(note: NoteIn, x_request_id: Annotated[str | None, Header()] = None) -> Note:
        created = Note(id=len(notes) + 1, **note.model_dump())
        if len(notes) < 100:
            notes[created.id] = created
        return created

    @app.get("/notes/{note_id:int}", responses={404: {"model": Problem}})
    def read_note(note_id: Annotated[int, Path(ge=1)]) -> Note:
        if note_id not in notes:
            raise HTTPException(404, "no such note")
        return notes[note_id]

    @app.put("/notes/{note_id:int}/stars", responses={404: {"model": Problem}})
    def rate(note_id: Annotated[int, Path(ge=1)], stars: Annotated[int, Body(ge=0, le=5)]) -> Note:
        if note_id not in notes:
            raise HTTPException(404, "no such note")
        notes[note_id] = notes[note_id].model_copy(update={"stars": stars})
        return notes[note_id]

    @app.delete("/notes/{note_id:int}", status_code=204, responses={404: {"model": Problem}})
    def delete_note(note_id: Annotated[int, Path(ge=1)]) -> None:
        if note_id == 1 or note_id not in notes:
            raise HTTPException(404, "no such note")
        del notes[note_id]

    @app.get("/echo")
    def echo(words: Annotated[list[str], Query(max_length=5)]) -> dict[str, Any]:
        return {"words": words}

    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", notes_app())


@schema.parametrize()  # type: ignore[untyped-decorator]
@hypothesis.settings(  # type: ignore[untyped-decorator]
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api_conforms_to_its_document(case: Any) -> None:
    # Pydantic's lax mode accepts `false` for an integer and "1" for a number, which JSON
    # Schema does not; rejecting every schema-violating request is not a goal.
    case.call_and_validate(excluded_checks=[schemathesis.checks.negative_data_rejection])
