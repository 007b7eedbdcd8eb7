"""The legacy app's own thread pool: busy legacy views don't hold trivium's handlers,
and a client that leaves frees the legacy thread."""

from __future__ import annotations

import threading

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


@pytest.mark.parametrize("options", [{"workers": 0}, {"workers": True}, {"send_queue_size": -1}])
def test_bad_pool_sizes_are_configuration_errors(options):
    with pytest.raises(ConfigurationError, match="whole number") as info:
        WSGIApp(lambda environ, start_response: [], **options)
    assert info.value.code == "interop-pool-size"


def test_a_non_callable_is_refused():
    with pytest.raises(ConfigurationError) as info:
        WSGIApp("myproject.wsgi:application")  # type: ignore[arg-type]
    assert info.value.code == "interop-not-wsgi"
