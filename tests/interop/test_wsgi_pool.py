"""The legacy app's own thread pool: busy legacy views don't hold trivium's handlers,
and a client that leaves frees the legacy thread."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from trivium import App
from trivium.errors import ConfigurationError
from trivium.interop import WSGIApp
from trivium.testing import AsyncTestClient


def blocking_wsgi(entered: threading.Event, release: threading.Event):
    def app(environ, start_response):
        entered.set()
        release.wait(10)
        start_response("200 OK", [("content-type", "text/plain")])
        return [b"legacy done"]

    return app


@pytest.mark.anyio
async def test_busy_legacy_pool_does_not_block_trivium_sync_handlers():
    entered, release = threading.Event(), threading.Event()
    app = App()

    @app.get("/ping")
    def ping() -> dict[str, bool]:  # a sync handler: runs on trivium's own threads
        return {"ok": True}

    app.mount("/old", WSGIApp(blocking_wsgi(entered, release), workers=1))
    async with AsyncTestClient(app) as client, anyio.create_task_group() as tg:
        results: list[int] = []

        async def slow() -> None:
            results.append((await client.get("/old/x")).status_code)

        tg.start_soon(slow)
        tg.start_soon(slow)  # queued behind the first: the pool has one thread
        await anyio.to_thread.run_sync(entered.wait, 5)
        with anyio.fail_after(5):
            assert (await client.get("/ping")).json() == {"ok": True}
        assert results == []  # both legacy requests are still waiting
        release.set()
    assert results == [200, 200]


@pytest.mark.anyio
async def test_client_leaving_a_stream_closes_the_legacy_iterable():
    closed = threading.Event()

    def endless(environ, start_response):
        start_response("200 OK", [("content-type", "text/plain")])

        def chunks():
            try:
                while True:
                    yield b"tick\n"
            finally:
                closed.set()

        return chunks()

    app = App()
    app.mount("/old", WSGIApp(endless, workers=1, send_queue_size=2))
    async with AsyncTestClient(app) as client:
        async with client.stream("GET", "/old/stream") as response:
            async for chunk in response.aiter_bytes():
                assert chunk.startswith(b"tick")
                break
        assert await anyio.to_thread.run_sync(closed.wait, 5)


SCOPE = {
    "type": "http",
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/stream",
    "root_path": "",
    "query_string": b"",
    "headers": [(b"host", b"example.com")],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}
"""An HTTP request's scope, for the tests that play the server's part themselves."""


@pytest.mark.anyio
async def test_a_client_leaving_is_noticed_from_receive_when_the_server_drops_sends():
    """What uvicorn and Granian's ASGI interface do: sends to a gone client just vanish."""
    closed = threading.Event()

    def endless(environ, start_response):
        start_response("200 OK", [("content-type", "text/plain")])

        def chunks():
            try:
                while True:
                    yield b"tick\n"
                    time.sleep(0.001)
            finally:
                closed.set()

        return chunks()

    left = anyio.Event()
    requested = False
    sent = 0

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await left.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal sent
        sent += 1
        if sent == 3:
            left.set()  # the client is gone: from now on, sends are dropped silently

    wsgi = WSGIApp(endless, workers=1, send_queue_size=2)
    with anyio.fail_after(5):
        await wsgi(dict(SCOPE), receive, send)
    assert closed.is_set()
    wsgi.close()


@pytest.mark.anyio
async def test_an_upload_read_while_the_response_streams_arrives_whole_and_in_order():
    def echo_lines(environ, start_response):
        start_response("200 OK", [("content-type", "text/plain")])
        stream = environ["wsgi.input"]
        while line := stream.readline():
            yield line.upper()  # the response streams while the upload still arrives

    lines = [f"line {n}\n".encode() for n in range(200)]
    pending = list(lines)
    received = bytearray()
    done = anyio.Event()

    async def receive():
        if pending:
            await anyio.sleep(0.001)  # a client sending its body piece by piece
            return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        received.extend(message.get("body", b""))
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    wsgi = WSGIApp(echo_lines, workers=1, send_queue_size=1)
    with anyio.fail_after(5):
        await wsgi(dict(SCOPE, method="POST", path="/echo"), receive, send)
    assert bytes(received) == b"".join(lines).upper()
    wsgi.close()


@pytest.mark.parametrize("options", [{"workers": 0}, {"workers": True}, {"send_queue_size": -1}])
def test_bad_pool_sizes_are_configuration_errors(options):
    with pytest.raises(ConfigurationError, match="whole number") as info:
        WSGIApp(lambda environ, start_response: [], **options)
    assert info.value.code == "interop-pool-size"


def test_a_non_callable_is_refused():
    with pytest.raises(ConfigurationError) as info:
        WSGIApp("myproject.wsgi:application")  # type: ignore[arg-type]
    assert info.value.code == "interop-not-wsgi"
