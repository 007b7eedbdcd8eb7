"""TestClient and AsyncTestClient over HTTP and the lifespan, driven with raw ASGI apps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from trivium import App as TriviumApp
from trivium.http._request import Request
from trivium.http._response import JSONResponse
from trivium.http._response import PlainTextResponse
from trivium.http._response import RedirectResponse
from trivium.http._response import Response
from trivium.testing import AsyncTestClient
from trivium.testing import LifespanError
from trivium.testing import TestClient
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

App = Callable[[Scope, Receive, Send], Any]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def http_app(handler: Callable[[Request], Any]) -> App:
    """Wrap `handler(request) -> Response` (sync or async) as a raw ASGI app."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("http only")
        request = Request(scope, receive, send)
        response = handler(request)
        if not isinstance(response, Response):
            response = await response
        await response(scope, receive, send)

    return app


def scope_echo() -> App:
    async def handler(request: Request) -> Response:
        scope = dict(request.scope)
        scope["headers"] = [[k.decode(), v.decode()] for k, v in scope["headers"]]
        scope["raw_path"] = scope["raw_path"].decode()
        scope["query_string"] = scope["query_string"].decode()
        return JSONResponse(scope)

    return http_app(handler)


class LifespanApp:
    """A raw app with a lifespan that records what happens, in order."""

    def __init__(self, fail_startup: bool = False, fail_shutdown: bool = False) -> None:
        self.events: list[str] = []
        self.fail_startup = fail_startup
        self.fail_shutdown = fail_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        self.events.append("request")
        state = scope["state"]
        body = {"state": dict(state)}
        state["mutated"] = True  # a request's copy must not leak into the next request
        await JSONResponse(body)(scope, receive, send)

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        if self.fail_startup:
            await send({"type": "lifespan.startup.failed", "message": "database is down"})
            return
        self.events.append("startup")
        scope["state"]["db"] = "connected"
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        self.events.append("shutdown")
        if self.fail_shutdown:
            await send({"type": "lifespan.shutdown.failed", "message": "could not flush"})
            return
        await send({"type": "lifespan.shutdown.complete"})


# Plain HTTP ---------------------------------------------------------------------------


def test_get_returns_an_httpx_response() -> None:
    client = TestClient(http_app(lambda request: PlainTextResponse("hello")))
    response = client.get("/")
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200
    assert response.text == "hello"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.http_version == "HTTP/1.1"


def test_post_body_reaches_the_app() -> None:
    async def handler(request: Request) -> Response:
        return JSONResponse({"method": request.method, "got": await request.json()})

    response = TestClient(http_app(handler)).post("/items", json={"name": "pen"})
    assert response.json() == {"method": "POST", "got": {"name": "pen"}}


def test_scope_is_complete_asgi3() -> None:
    scope = TestClient(scope_echo()).get("/items/1?x=1").json()
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/items/1"
    assert scope["raw_path"] == "/items/1"
    assert scope["root_path"] == ""
    assert scope["query_string"] == "x=1"
    assert scope["client"] == ["testclient", 50000]
    assert scope["server"] == ["testserver", 80]
    assert scope["state"] == {}
    assert ["host", "testserver"] in scope["headers"]
    assert ["user-agent", "testclient"] in scope["headers"]


def test_path_is_percent_decoded_and_raw_path_kept() -> None:
    scope = TestClient(scope_echo()).get("/caf%C3%A9/a%2Fb").json()
    assert scope["path"] == "/café/a/b"
    assert scope["raw_path"] == "/caf%C3%A9/a%2Fb"


def test_query_string_is_passed_as_sent() -> None:
    client = TestClient(scope_echo())
    assert client.get("/?q=a%20b&tag=1&tag=2").json()["query_string"] == "q=a%20b&tag=1&tag=2"
    assert client.get("/", params={"q": "x y"}).json()["query_string"] == "q=x+y"


def test_headers_are_lower_cased_and_defaults_merge() -> None:
    client = TestClient(scope_echo(), headers={"X-Token": "abc"})
    headers = client.get("/", headers={"X-Extra": "1"}).json()["headers"]
    assert ["x-token", "abc"] in headers
    assert ["x-extra", "1"] in headers


def test_https_base_url_sets_scheme_and_port() -> None:
    scope = TestClient(scope_echo(), base_url="https://example.org:8443").get("/").json()
    assert scope["scheme"] == "https"
    assert scope["server"] == ["example.org", 8443]
    assert ["host", "example.org:8443"] in scope["headers"]


def test_root_path_prefixes_the_path_like_a_server_behind_a_proxy() -> None:
    scope = TestClient(scope_echo(), root_path="/api").get("/users").json()
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/users"
    assert scope["raw_path"] == "/api/users"


def test_client_address_is_configurable() -> None:
    assert TestClient(scope_echo(), client=("10.0.0.1", 1234)).get("/").json()["client"] == [
        "10.0.0.1",
        1234,
    ]
    assert TestClient(scope_echo(), client=None).get("/").json()["client"] is None


def test_cookies_persist_across_requests() -> None:
    def handler(request: Request) -> Response:
        if request.url.path == "/login":
            response = PlainTextResponse("ok")
            response.set_cookie("session", "s1")
            return response
        return JSONResponse(request.cookies)

    client = TestClient(http_app(handler))
    assert client.get("/me").json() == {}
    client.get("/login")
    assert client.get("/me").json() == {"session": "s1"}
    assert client.cookies["session"] == "s1"


def test_initial_cookies_are_sent() -> None:
    client = TestClient(http_app(lambda r: JSONResponse(r.cookies)), cookies={"theme": "dark"})
    assert client.get("/").json() == {"theme": "dark"}


def test_redirects_are_followed_unless_disabled() -> None:
    def handler(request: Request) -> Response:
        if request.url.path == "/old":
            return RedirectResponse("/new")
        return PlainTextResponse(request.url.path)

    client = TestClient(http_app(handler))
    response = client.get("/old")
    assert response.text == "/new"
    assert [r.status_code for r in response.history] == [307]
    assert client.get("/old", follow_redirects=False).status_code == 307
    assert TestClient(http_app(handler), follow_redirects=False).get("/old").status_code == 307


def test_head_response_has_no_body() -> None:
    response = TestClient(http_app(lambda r: PlainTextResponse("hello"))).head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "5"


def test_work_after_the_body_finishes_before_the_call_returns() -> None:
    done: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("ok")(scope, receive, send)
        await anyio.sleep(0.01)
        done.append("background")

    assert TestClient(app).get("/").text == "ok"
    assert done == ["background"]


# Server exceptions ---------------------------------------------------------------------


def boom(request: Request) -> Response:
    raise ValueError("boom")


def test_exception_escaping_the_app_is_raised_in_the_test() -> None:
    with pytest.raises(ValueError, match="boom"):
        TestClient(http_app(boom)).get("/")


def test_exception_becomes_500_when_not_raised() -> None:
    response = TestClient(http_app(boom), raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_exception_after_the_response_is_raised_or_the_response_kept() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("sent", status_code=500)(scope, receive, send)
        raise ValueError("after the response")

    with pytest.raises(ValueError, match="after the response"):
        TestClient(app).get("/")
    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (500, "sent")


def test_app_returning_without_a_response_is_an_error() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with pytest.raises(RuntimeError, match="without sending a response"):
        TestClient(app).get("/")
    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500


def test_protocol_violation_is_reported() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": b"x"})

    with pytest.raises(RuntimeError, match=r"before \"http.response.start\""):
        TestClient(app).get("/")


# Streaming -----------------------------------------------------------------------------


def endless_events(log: list[Message]) -> App:
    """An SSE endpoint that never ends by itself and records the messages it receives."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan
        await receive()  # the (empty) request body
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})

        async def listen() -> None:
            log.append(await receive())
            group.cancel_scope.cancel()

        async with anyio.create_task_group() as group:
            group.start_soon(listen)
            number = 0
            while True:
                event = f"data: {number}\n\n".encode()
                await send({"type": "http.response.body", "body": event, "more_body": True})
                number += 1
                await anyio.lowlevel.checkpoint()

    return app


def test_streaming_response_delivers_chunks_and_stops_early() -> None:
    received: list[Message] = []
    client = TestClient(endless_events(received))
    with client.stream("GET", "/events") as response:
        assert response.headers["content-type"] == "text/event-stream"
        lines = []
        for line in response.iter_lines():
            if line:
                lines.append(line)
            if len(lines) == 3:
                break
    assert lines == ["data: 0", "data: 1", "data: 2"]
    assert received == [{"type": "http.disconnect"}]


def test_streaming_inside_the_lifespan_block() -> None:
    received: list[Message] = []
    with TestClient(endless_events(received)) as client:
        with client.stream("GET", "/") as response:
            assert next(response.iter_lines()) == "data: 0"
        assert received == [{"type": "http.disconnect"}]


def test_app_that_ignores_the_disconnect_is_stopped() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:  # never listens; its next send fails once the client has gone
            await send({"type": "http.response.body", "body": b"x", "more_body": True})

    with TestClient(app).stream("GET", "/") as response:
        assert next(response.iter_bytes()) == b"x"


# Lifespan ------------------------------------------------------------------------------


def test_lifespan_runs_around_the_with_block() -> None:
    app = LifespanApp()
    with TestClient(app) as client:
        assert app.events == ["startup"]
        client.get("/")
    assert app.events == ["startup", "request", "shutdown"]


def test_no_lifespan_runs_without_with() -> None:
    app = LifespanApp()
    TestClient(app).get("/")
    assert app.events == ["request"]


def test_lifespan_state_is_copied_into_each_request() -> None:
    with TestClient(LifespanApp()) as client:
        assert client.get("/").json() == {"state": {"db": "connected"}}
        assert client.get("/").json() == {"state": {"db": "connected"}}


def test_failed_startup_raises_with_the_apps_message() -> None:
    app = LifespanApp(fail_startup=True)
    with pytest.raises(LifespanError, match="database is down"), TestClient(app):
        pytest.fail("the block must not run")  # pragma: no cover


def test_startup_exception_is_raised_as_itself() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise ConnectionError("no database")

    with pytest.raises(ConnectionError, match="no database"), TestClient(app):
        pytest.fail("the block must not run")  # pragma: no cover


def test_failed_shutdown_raises() -> None:
    app = LifespanApp(fail_shutdown=True)
    with pytest.raises(LifespanError, match="could not flush"), TestClient(app):
        pass
    assert app.events == ["startup", "shutdown"]


def test_failed_shutdown_does_not_hide_the_tests_own_error() -> None:
    with pytest.raises(KeyError), TestClient(LifespanApp(fail_shutdown=True)):
        raise KeyError("from the test")


def test_app_without_lifespan_support_still_serves() -> None:
    client = TestClient(http_app(lambda r: PlainTextResponse("ok")))
    with client:
        assert client.get("/").text == "ok"


def test_client_is_reusable_after_the_with_block() -> None:
    app = LifespanApp()
    client = TestClient(app)
    with client:
        pass
    with client:
        pass
    assert client.get("/").status_code == 200
    assert app.events == ["startup", "shutdown", "startup", "shutdown", "request"]


# AsyncTestClient -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_serves_requests_without_a_lifespan() -> None:
    app = LifespanApp()
    client = AsyncTestClient(app)
    response = await client.get("/")
    assert isinstance(response, httpx.Response)
    assert response.json() == {"state": {}}
    assert app.events == ["request"]


@pytest.mark.anyio
async def test_async_client_runs_the_lifespan() -> None:
    app = LifespanApp()
    async with AsyncTestClient(app) as client:
        assert (await client.get("/")).json() == {"state": {"db": "connected"}}
    assert app.events == ["startup", "request", "shutdown"]


@pytest.mark.anyio
async def test_async_client_failed_startup_raises() -> None:
    with pytest.raises(LifespanError, match="database is down"):
        async with AsyncTestClient(LifespanApp(fail_startup=True)):
            pytest.fail("the block must not run")  # pragma: no cover


async def first_line(response: httpx.Response) -> str:
    async for line in response.aiter_lines():
        return line
    raise AssertionError("no line")  # pragma: no cover


@pytest.mark.anyio
async def test_async_client_streams_and_stops_early() -> None:
    received: list[Message] = []
    async with AsyncTestClient(endless_events(received)) as client:
        async with client.stream("GET", "/") as response:
            assert await first_line(response) == "data: 0"
    assert received == [{"type": "http.disconnect"}]


@pytest.mark.anyio
async def test_async_client_streams_without_a_lifespan() -> None:
    received: list[Message] = []
    client = AsyncTestClient(endless_events(received))
    async with client.stream("GET", "/") as response:
        assert await first_line(response) == "data: 0"
    assert received == [{"type": "http.disconnect"}]


@pytest.mark.anyio
async def test_async_client_raises_or_answers_500() -> None:
    with pytest.raises(ValueError, match="boom"):
        await AsyncTestClient(http_app(boom)).get("/")
    response = await AsyncTestClient(http_app(boom), raise_server_exceptions=False).get("/")
    assert response.status_code == 500


@pytest.mark.anyio
async def test_async_client_cookies_persist() -> None:
    def handler(request: Request) -> Response:
        response = JSONResponse(request.cookies)
        response.set_cookie("n", "1")
        return response

    async with AsyncTestClient(http_app(handler)) as client:
        assert (await client.get("/")).json() == {}
        assert (await client.get("/")).json() == {"n": "1"}


# Edge cases ----------------------------------------------------------------------------


def test_response_start_twice_is_reported() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.start", "status": 200, "headers": []})

    with pytest.raises(RuntimeError, match="twice"):
        TestClient(app).get("/")


def test_body_after_the_end_is_reported() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("done")(scope, receive, send)
        await send({"type": "http.response.body", "body": b"more"})

    with pytest.raises(RuntimeError, match="after the response ended"):
        TestClient(app).get("/")


def test_streamed_request_body_reaches_the_app() -> None:
    async def handler(request: Request) -> Response:
        return PlainTextResponse(await request.body())

    def chunks() -> Any:
        yield b"a"
        yield b"b"

    assert TestClient(http_app(handler)).post("/", content=chunks()).text == "ab"


def test_stuck_app_is_cancelled_after_the_client_leaves() -> None:
    cancelled: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        try:
            await anyio.sleep_forever()  # neither sends nor listens for the disconnect
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    with TestClient(app).stream("GET", "/") as response:
        assert next(response.iter_bytes()) == b"x"
    assert cancelled == [True]


def test_lifespan_cannot_be_entered_twice_at_once() -> None:
    client = TestClient(LifespanApp())
    with client, pytest.raises(RuntimeError, match="already running"):
        client.__enter__()


def test_unexpected_lifespan_message_is_reported() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.shutdown.complete"})

    with pytest.raises(RuntimeError, match="unexpected ASGI message"), TestClient(app):
        pytest.fail("the block must not run")  # pragma: no cover


def test_shutdown_exception_is_raised_as_itself() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        raise OSError("flush failed")

    with pytest.raises(OSError, match="flush failed"), TestClient(app):
        pass


@pytest.mark.anyio
async def test_async_client_shutdown_failure_does_not_hide_the_tests_error() -> None:
    with pytest.raises(KeyError):
        async with AsyncTestClient(LifespanApp(fail_shutdown=True)):
            raise KeyError("from the test")
    with pytest.raises(LifespanError, match="could not flush"):
        async with AsyncTestClient(LifespanApp(fail_shutdown=True)):
            pass


def test_the_portal_runs_coroutines_on_the_apps_loop() -> None:
    import asyncio

    loops: list[object] = []
    app = TriviumApp()

    @app.on_event("startup")
    async def remember() -> None:
        loops.append(asyncio.get_running_loop())

    async def current() -> object:
        return asyncio.get_running_loop()

    client = TestClient(app)
    assert client.portal is None
    with client:
        assert client.portal is not None
        assert client.portal.call(current) is loops[0]
    assert client.portal is None
