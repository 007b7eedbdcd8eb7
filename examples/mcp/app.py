"""An MCP server from curated routes: `trivium run examples.mcp.app:app`, then connect an
MCP client to http://127.0.0.1:8000/mcp (`TRIVIUM_APP=examples.mcp.app:app trivium mcp
list` prints the tools and what their definitions cost a model).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import BaseModel

from trivium import App
from trivium import HTTPException
from trivium import Router
from trivium.ai import MCP
from trivium.ai import Prompt
from trivium.ai import mcp
from trivium.responses import StreamingResponse


# --8<-- [start:models]
class Category(BaseModel):
    """A category; sub-categories are categories too (a recursive model is fine)."""

    name: str
    children: list[Category] = []


class Book(BaseModel):
    id: int
    title: str
    author: str


# --8<-- [end:models]

BOOKS = {1: Book(id=1, title="Dune", author="Frank Herbert")}

# --8<-- [start:app]
app = App(title="Library")
app.install(
    MCP(
        name="library",
        instructions="Look books up before suggesting them.",
        prompts=[Prompt("recommend", "Recommend three books like {title}.")],
    )
)


@app.get("/books/{book_id}", mcp=True)  # a tool: named after the handler
async def get_book(book_id: int) -> Book:
    """Return one book by its id."""
    if book_id not in BOOKS:
        raise HTTPException(404, f"no book {book_id}")
    return BOOKS[book_id]


@app.post("/books", status_code=201)
@mcp.tool(name="add_book")  # the same, as a decorator on the handler
async def create_book(title: str, author: str) -> Book:
    """Add a book to the library."""
    book = Book(id=max(BOOKS) + 1, title=title, author=author)
    BOOKS[book.id] = book
    return book


@app.get("/categories", mcp=True)
async def categories() -> Category:
    """The category tree."""
    return Category(name="fiction", children=[Category(name="science fiction")])


@app.get("/books", mcp={"resource": True, "uri": "library://books"})  # a resource
async def all_books() -> list[Book]:
    """Every book."""
    return list(BOOKS.values())


@app.get("/export")
@mcp.tool
async def export() -> StreamingResponse:
    """Export the catalogue; each chunk is a progress notification."""

    async def chunks() -> AsyncIterator[bytes]:
        for book in BOOKS.values():
            yield (book.model_dump_json() + "\n").encode()

    return StreamingResponse(chunks(), media_type="application/x-ndjson")


@app.get("/stats")  # not marked: never a tool
async def stats() -> dict[str, int]:
    return {"books": len(BOOKS)}


# Every route of a router, except the ones that say mcp=False:
shelf = Router(prefix="/shelf", mcp=True)


@shelf.get("/size")
async def shelf_size() -> dict[str, int]:
    """How many books are on the shelf."""
    return {"size": len(BOOKS)}


app.include_router(shelf)
# --8<-- [end:app]
