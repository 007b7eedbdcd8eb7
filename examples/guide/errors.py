"""Errors, as shown in docs/errors.md."""

from __future__ import annotations

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium import RequestValidationError
from trivium.http import Limits
from trivium.responses import JSONResponse

app = App(limits=Limits(max_body_size=1024))


# --8<-- [start:raise]
BOOKS = {1: "Orlando"}


@app.get("/books/{book_id}")
def get_book(book_id: int) -> dict[str, object]:
    if book_id not in BOOKS:
        raise HTTPException(404, f"Book {book_id} not found", headers={"x-reason": "missing"})
    return {"id": book_id, "title": BOOKS[book_id]}


@app.post("/books")
def add_book(book: dict[str, str]) -> dict[str, str]:
    return book


# --8<-- [end:raise]


# --8<-- [start:handlers]
class OutOfStockError(Exception):
    def __init__(self, title: str) -> None:
        self.title = title


@app.exception_handler(OutOfStockError)
async def out_of_stock(request: Request, exc: OutOfStockError) -> JSONResponse:
    return JSONResponse({"detail": f"{exc.title} is out of stock"}, status_code=409)


@app.exception_handler(RequestValidationError)
def validation_failed(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = [".".join(str(part) for part in error["loc"]) for error in exc.errors()]
    return JSONResponse({"detail": "Invalid request", "fields": fields}, status_code=422)


@app.get("/books/{book_id}/order")
def order(book_id: int) -> dict[str, int]:
    raise OutOfStockError(BOOKS.get(book_id, "That book"))


# --8<-- [end:handlers]


# --8<-- [start:crash]
@app.get("/crash")
def crash() -> None:
    raise RuntimeError("database password is hunter2")  # never shown to the client


# --8<-- [end:crash]
