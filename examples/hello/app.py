"""Hello, world: the smallest trivium app.

Run it with `trivium run examples.hello.app:app` and open http://127.0.0.1:8000/.
"""

from __future__ import annotations

from typing import Annotated

from trivium import App
from trivium import HTTPException
from trivium import Query

app = App()


@app.get("/")
async def hello(name: Annotated[str, Query(max_length=40)] = "world") -> dict[str, str]:
    return {"message": f"Hello, {name}!"}


@app.get("/square/{number}")
def square(number: int) -> dict[str, int]:
    if number > 1_000_000:
        raise HTTPException(400, "Pick a number up to 1,000,000")
    return {"number": number, "square": number * number}
