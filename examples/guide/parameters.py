"""Request parameters, as shown in docs/parameters.md."""

from __future__ import annotations

from typing import Annotated
from typing import Literal

from pydantic import BaseModel
from pydantic import Field

from trivium import App
from trivium import Body
from trivium import Cookie
from trivium import File
from trivium import Form
from trivium import Header
from trivium import Path
from trivium import Query
from trivium import UploadFile

app = App()


# --8<-- [start:inferred]
class Book(BaseModel):
    title: str = Field(min_length=1)
    year: int = Field(ge=1450, le=2100)
    tags: list[str] = []


@app.put("/shelves/{shelf_id}/books")
def add_book(shelf_id: int, book: Book, dry_run: bool = False) -> dict[str, object]:
    # shelf_id: in the path; book: a model, so the JSON body; dry_run: a scalar, so a query
    return {"shelf_id": shelf_id, "title": book.title, "dry_run": dry_run}


# --8<-- [end:inferred]


# --8<-- [start:query]
@app.get("/books")
def search_books(
    q: Annotated[str | None, Query(min_length=2, max_length=50)] = None,
    tag: Annotated[list[str], Query()] = [],  # noqa: B006 - copied per request
    sort: Literal["title", "year"] = "title",
    page_size: Annotated[int, Query(alias="page-size", ge=1, le=100)] = 20,
) -> dict[str, object]:
    return {"q": q, "tag": tag, "sort": sort, "page_size": page_size}


# --8<-- [end:query]


# --8<-- [start:query-model]
class Filters(BaseModel):
    author: str | None = None
    year_from: int = Field(1450, ge=1450)
    language: list[str] = []


@app.get("/catalogue")
def catalogue(filters: Annotated[Filters, Query()]) -> Filters:
    return filters  # ?author=Woolf&language=en&language=fr


# --8<-- [end:query-model]


# --8<-- [start:path-header-cookie]
@app.get("/books/{book_id}/reviews")
def reviews(
    book_id: Annotated[int, Path(ge=1, description="The book's id")],
    user_agent: Annotated[str | None, Header()] = None,  # reads "user-agent"
    x_request_id: Annotated[str | None, Header(max_length=64)] = None,  # reads "x-request-id"
    theme: Annotated[Literal["light", "dark"], Cookie()] = "light",
) -> dict[str, object]:
    return {"book_id": book_id, "agent": user_agent, "request_id": x_request_id, "theme": theme}


# --8<-- [end:path-header-cookie]


# --8<-- [start:bodies]
class Review(BaseModel):
    stars: int = Field(ge=1, le=5)
    text: str = ""


@app.post("/books/{book_id}/reviews")
def add_review(
    book_id: int,
    review: Review,
    reviewer: Annotated[str, Body(min_length=1)],
) -> dict[str, object]:
    # Two body parameters: the body is {"review": {...}, "reviewer": "..."}
    return {"book_id": book_id, "stars": review.stars, "reviewer": reviewer}


@app.post("/books/{book_id}/cover-note")
def cover_note(book_id: int, note: Annotated[str, Body(embed=True, max_length=140)]) -> str:
    return note  # the body is {"note": "..."}


# --8<-- [end:bodies]


# --8<-- [start:forms]
@app.post("/login")
def login(
    username: Annotated[str, Form()],
    password: Annotated[str, Form(min_length=8)],
) -> dict[str, str]:
    return {"username": username}


@app.post("/books/{book_id}/scans")
async def upload_scan(
    book_id: int,
    scan: UploadFile,
    caption: Annotated[str, Form(max_length=200)] = "",
    thumbnail: Annotated[bytes | None, File()] = None,
) -> dict[str, object]:
    content = await scan.read()
    return {
        "filename": scan.filename,
        "content_type": scan.content_type,
        "size": len(content),
        "caption": caption,
        "thumbnail_size": len(thumbnail or b""),
    }


# --8<-- [end:forms]
