"""A body that `dispatch` read is still there for the app, whatever way it was read.

Each app runs with `Limits(timeout=5)`, so a request that would wait forever for a body
answers 503 instead of hanging the test.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from trivium import App
from trivium import Form
from trivium import Request
from trivium import UploadFile
from trivium.http import Limits
from trivium.middleware import CallNext
from trivium.responses import Response
from trivium.testing import TestClient


def make_app() -> App:
    app = App(limits=Limits(timeout=5))

    @app.post("/comment")
    async def comment(
        text: Annotated[str, Form()],
        attachment: UploadFile,
        note: Annotated[str, Form(alias='a "quoted\\" name')] = "",
    ) -> dict[str, object]:
        data = await attachment.read()
        return {
            "text": text,
            "note": note,
            "file": attachment.filename,
            "type": attachment.content_type,
            "sha": hashlib.sha256(data).hexdigest(),
        }

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return app


def reads_the_form(app: App, seen: dict[str, object]) -> None:
    @app.middleware("http")
    async def peek(request: Request, call_next: CallNext) -> Response:
        form = await request.form()
        seen["token"] = form.get("csrf_token")
        response = await call_next(request)
        upload = form.get("attachment")
        if isinstance(upload, UploadFile):  # still readable, from its start
            seen["after"] = hashlib.sha256(await upload.read()).hexdigest()
        return response


BOUNDARY = "b0undary"


def multipart(content: bytes) -> bytes:
    """A form as a browser sends it: a name with an escaped quote, text, a file."""
    return b"".join(
        [
            b"--b0undary\r\n",
            b'Content-Disposition: form-data; name="a \\"quoted\\\\\\" name"\r\n\r\n',
            "ñ".encode(),
            b"\r\n--b0undary\r\n",
            b'Content-Disposition: form-data; name="text"\r\n',
            b"Content-Type: text/plain; charset=latin-1\r\n\r\n",
            "héllo\r\n--not a boundary".encode("latin-1"),
            b"\r\n--b0undary\r\n",
            b'Content-Disposition: form-data; name="csrf_token"\r\n\r\nt',
            b"\r\n--b0undary\r\n",
            b'Content-Disposition: form-data; name="attachment"; filename="r\xc3\xa9 port.bin"\r\n',
            b"Content-Type: application/x-thing\r\n\r\n",
            content,
            b"\r\n--b0undary--\r\n",
        ]
    )


def test_the_app_reads_a_multipart_form_the_middleware_read() -> None:
    app = make_app()
    seen: dict[str, object] = {}
    reads_the_form(app, seen)
    content = bytes(range(256)) * 10_000  # 2.5 MB: past the in-memory spool
    response = TestClient(app).post(
        "/comment",
        content=multipart(content),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "text": "héllo\r\n--not a boundary",
        "note": "ñ",
        "file": "ré port.bin",
        "type": "application/x-thing",
        "sha": hashlib.sha256(content).hexdigest(),
    }
    assert seen == {"token": "t", "after": hashlib.sha256(content).hexdigest()}


def test_the_app_reads_an_urlencoded_form_the_middleware_read() -> None:
    app = make_app()
    seen: dict[str, object] = {}
    reads_the_form(app, seen)
    response = TestClient(app).post("/raw", data={"csrf_token": "t", "x": "1"})
    assert response.json() == {"size": len("csrf_token=t&x=1")}
    assert seen == {"token": "t"}


def test_a_body_the_middleware_streamed_reaches_the_app_empty_at_once() -> None:
    app = make_app()
    sizes: list[int] = []

    @app.middleware("http")
    async def count(request: Request, call_next: CallNext) -> Response:
        sizes.append(sum([len(chunk) async for chunk in request.stream()]))
        return await call_next(request)

    response = TestClient(app).post("/raw", content=b"x" * 100_000)
    assert response.status_code == 200
    assert response.json() == {"size": 0}
    assert sizes == [100_000]


def test_a_body_the_middleware_left_alone_reaches_the_app_whole() -> None:
    app = make_app()

    @app.middleware("http")
    async def nothing(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    response = TestClient(app).post("/raw", content=b"x" * 100_000)
    assert response.json() == {"size": 100_000}
