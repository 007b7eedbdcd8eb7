"""The request body and the response length between a server and a mounted WSGI app.

A request body the client abandoned halfway (a cut connection: the server reports
`http.disconnect` before the last body message) must fail the legacy view, never reach
it as a shorter body that looks complete. The test client always sends whole bodies, so
these tests call the mount as the ASGI app it is, with the messages a server sends.
A response body longer than its own `Content-Length` is cut to that length, as gunicorn
does, and `SERVER_PROTOCOL` names HTTP/1.0 for Granian's `http_version` "1".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask import request

from trivium import App
from trivium import Request
from trivium.interop import ClientDisconnectedError
from trivium.interop import Legacy
from trivium.interop import WSGIApp
from trivium.testing import AsyncTestClient
from trivium.testing import TestClient
from trivium.types import Message

pytestmark = pytest.mark.anyio

DISCONNECT: Message = {"type": "http.disconnect"}


def part(body: bytes) -> Message:
    return {"type": "http.request", "body": body, "more_body": True}


def last(body: bytes) -> Message:
    return {"type": "http.request", "body": body, "more_body": False}


async def serve(
    asgi: Any,
    messages: list[Message],
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    http_version: str = "1.1",
) -> list[Message]:
    """Serve one POST with a WSGI app's mount (or an `App`) as a server would.

    Returns what it sent.
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": http_version,
        "method": "POST",
        "scheme": "http",
        "path": "/save",
        "raw_path": b"/save",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    pending = list(messages)

    async def receive() -> Message:
        # A server keeps answering `http.disconnect` once the client is gone.
        return pending.pop(0) if len(pending) > 1 else pending[0]

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    if isinstance(asgi, App):
        await asgi(scope, receive, send)
        return sent
    mount = WSGIApp(asgi, workers=1)
    try:
        await mount(scope, receive, send)
    finally:
        mount.close()
    return sent


def saving_flask_app(saved: list[int], errors: list[BaseException]) -> Flask:
    app = Flask(__name__)

    @app.post("/save")
    def save() -> str:
        try:
            data = request.get_data()
        except OSError as exc:
            errors.append(exc)
            raise
        saved.append(len(data))
        return "saved"

    return app


async def test_an_upload_cut_short_fails_the_flask_view_instead_of_saving_part_of_it():
    saved: list[int] = []
    errors: list[BaseException] = []
    headers = [(b"content-length", b"1000000")]
    messages = [part(b"x" * 250_000), part(b"x" * 250_000), DISCONNECT]
    sent = await serve(saving_flask_app(saved, errors), messages, headers=headers)
    assert saved == []
    assert len(errors) == 1
    assert isinstance(errors[0], ClientDisconnectedError)
    assert sent[0]["status"] == 500  # Flask's own error page, for nobody


async def test_a_chunked_upload_cut_short_raises_from_wsgi_input():
    seen: list[object] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            seen.append(environ["wsgi.input"].read())
        except OSError as exc:
            seen.append(exc)
            raise
        start_response("200 OK", [])
        return [b"saved"]

    sent = await serve(app, [part(b"first chunk"), DISCONNECT])
    assert len(seen) == 1
    assert isinstance(seen[0], ClientDisconnectedError)
    assert sent[0]["status"] == 500


async def test_a_view_failing_on_a_cut_upload_is_logged_without_a_traceback(caplog):
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [b"saved"]

    with caplog.at_level(logging.INFO, logger="trivium.interop"):
        await serve(app, [part(b"half"), DISCONNECT])
    records = [r for r in caplog.records if r.name == "trivium.interop"]
    assert [r.levelname for r in records] == ["INFO"]
    assert "client left during the request body of POST /save" in records[0].getMessage()


async def test_a_client_leaving_after_the_whole_body_does_not_fail_the_read():
    saved: list[int] = []
    errors: list[BaseException] = []
    headers = [(b"content-length", b"10")]
    sent = await serve(
        saving_flask_app(saved, errors),
        [part(b"x" * 6), last(b"x" * 4), DISCONNECT],
        headers=headers,
    )
    assert saved == [10]
    assert errors == []
    assert sent[0]["status"] == 200


@pytest.mark.parametrize(
    ("http_version", "protocol"),
    [("1", "HTTP/1.0"), ("1.0", "HTTP/1.0"), ("1.1", "HTTP/1.1"), ("2", "HTTP/2")],
)
async def test_server_protocol_names_the_http_version(http_version: str, protocol: str):
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [environ["SERVER_PROTOCOL"].encode()]

    sent = await serve(app, [last(b"")], http_version=http_version)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == protocol.encode()


def overlong(declared: int, chunks: list[bytes]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response(
            "200 OK", [("content-type", "text/plain"), ("content-length", str(declared))]
        )
        yield from chunks

    return app


def client_for(wsgi: Any) -> TestClient:
    app = App()
    app.mount("/old", WSGIApp(wsgi, workers=1))
    return TestClient(app)


def test_a_body_longer_than_its_content_length_is_cut_to_it(caplog):
    wsgi = overlong(8, [b"12345", b"67890", b"abc"])
    with client_for(wsgi) as client, caplog.at_level(logging.WARNING, logger="trivium.interop"):
        first = client.get("/old/x")
        second = client.get("/old/y")
    assert first.content == second.content == b"12345678"
    assert first.headers["content-length"] == "8"
    warnings = [r for r in caplog.records if r.name == "trivium.interop"]
    assert len(warnings) == 1  # once per mount
    assert "longer than its Content-Length" in warnings[0].getMessage()


def test_a_body_of_its_content_length_is_sent_whole_without_a_warning(caplog):
    wsgi = overlong(10, [b"12345", b"", b"67890"])
    with client_for(wsgi) as client, caplog.at_level(logging.WARNING, logger="trivium.interop"):
        response = client.get("/old/x")
    assert response.content == b"1234567890"
    assert not [r for r in caplog.records if r.name == "trivium.interop"]


def test_a_content_length_of_zero_sends_no_body():
    with client_for(overlong(0, [b"not for the client"])) as client:
        response = client.get("/old/x")
    assert response.status_code == 200
    assert response.content == b""


async def test_a_shadowed_upload_cut_short_fails_the_legacy_view_and_is_not_shadowed():
    saved: list[int] = []
    errors: list[BaseException] = []
    reports: list[object] = []
    legacy = Legacy(saving_flask_app(saved, errors), workers=1)
    app = App(plugins=[legacy])
    router = legacy.router(shadow=True, on_difference=reports.append)
    handled: list[int] = []

    @router.post("/save")
    async def save(request: Request) -> str:
        handled.append(len(await request.body()))
        return "saved"

    app.include_router(router)
    async with AsyncTestClient(app):  # runs the app's lifespan: the app is built
        await serve(app, [part(b"x" * 500), DISCONNECT], headers=[(b"content-length", b"1000")])
    legacy.app.close()
    assert saved == []
    assert [type(error) for error in errors] == [ClientDisconnectedError]
    assert handled == []  # trivium's shadow handler never saw the partial body
    assert reports == []
