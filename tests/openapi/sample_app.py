"""An app for the `trivium openapi` command tests."""

from __future__ import annotations

from pydantic import BaseModel

from trivium import App


class Greeting(BaseModel):
    text: str


app = App(title="Sample", version="1.2.3")


@app.get("/greet/{name}")
def greet(name: str) -> Greeting:
    """Greet someone: ünïcode stays as is."""
    return Greeting(text=f"hello {name}")


def create_app() -> App:
    return app


not_an_app = 42


broken = App()


@broken.get("/a", operation_id="same")
def first() -> None: ...


@broken.get("/b", operation_id="same")
def second() -> None: ...
