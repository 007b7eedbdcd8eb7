"""Responses, as shown in docs/responses.md."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import AsyncIterator
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from trivium import App
from trivium import HTTPException
from trivium import Response
from trivium import status
from trivium.responses import FileResponse
from trivium.responses import HTMLResponse
from trivium.responses import JSONResponse
from trivium.responses import PlainTextResponse
from trivium.responses import RedirectResponse
from trivium.responses import StreamingResponse

app = App()
HERE = Path(__file__).parent


# --8<-- [start:values]
@dataclasses.dataclass
class Point:
    x: int
    y: int


@app.get("/values")
def values() -> dict[str, object]:
    return {
        "when": datetime.datetime(2030, 1, 2, 3, 4, tzinfo=datetime.UTC),
        "point": Point(1, 2),
        "tags": {"a"},
    }


# --8<-- [end:values]


# --8<-- [start:response-model]
class UserIn(BaseModel):
    name: str
    password: str


class UserOut(BaseModel):
    name: str
    nickname: str | None = None


@app.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(user: UserIn) -> UserOut:
    return UserOut(name=user.name)  # the return annotation is the response model


@app.get("/users/{name}", response_model=UserOut, response_model_exclude_none=True)
def get_user(name: str) -> dict[str, str]:
    return {"name": name, "password": "never sent"}  # filtered by UserOut


# --8<-- [end:response-model]


# --8<-- [start:classes]
@app.get("/page", response_class=HTMLResponse)
def page() -> str:
    return "<h1>Hello</h1>"


@app.get("/robots.txt")
def robots() -> PlainTextResponse:
    return PlainTextResponse("User-agent: *\nDisallow:\n")


@app.get("/old-page")
def old_page() -> RedirectResponse:
    return RedirectResponse("/page", status_code=status.HTTP_301_MOVED_PERMANENTLY)


@app.get("/teapot")
def teapot() -> JSONResponse:
    return JSONResponse({"brewing": False}, status_code=418, headers={"x-pot": "1"})


# --8<-- [end:classes]


# --8<-- [start:injected]
@app.post("/sessions")
def login(response: Response) -> dict[str, bool]:
    response.set_cookie("session", "abc123", max_age=3600)  # HttpOnly, SameSite=Lax by default
    response.headers["cache-control"] = "no-store"
    response.status_code = status.HTTP_201_CREATED
    return {"ok": True}


# --8<-- [end:injected]


# --8<-- [start:streaming]
@app.get("/numbers.csv")
def numbers(count: int = 3) -> StreamingResponse:
    def rows() -> Iterator[str]:  # a sync generator runs in a worker thread
        yield "n,square\n"
        for n in range(1, count + 1):
            yield f"{n},{n * n}\n"

    return StreamingResponse(rows(), media_type="text/csv")


@app.get("/source")
def source() -> FileResponse:
    path = HERE / "responses.py"
    if not path.is_file():
        raise HTTPException(404, "No such file")
    return FileResponse(path, media_type="text/x-python", filename="responses.py")


# --8<-- [end:streaming]


# --8<-- [start:generators]
class Reading(BaseModel):
    sensor: str
    value: float


@app.get("/readings")
async def readings(count: int = 3) -> AsyncIterator[Reading]:
    for n in range(count):  # each item is validated against Reading: one JSON line each
        yield Reading(sensor="t1", value=20 + n / 2)


# --8<-- [end:generators]
