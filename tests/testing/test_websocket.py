"""The WebSocket connection class and the test clients' websocket sessions."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

import pytest

from trivium.errors import WebSocketException
from trivium.http._websocket import WebSocket
from trivium.http._websocket import WebSocketDisconnect
from trivium.http._websocket import WebSocketState
from trivium.testing import AsyncTestClient
from trivium.testing import TestClient
from trivium.testing import WebSocketRejected
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

Handler = Callable[[WebSocket], Awaitable[None]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def ws_app(handler: Handler) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Wrap `handler(websocket)` as a raw ASGI app (no lifespan)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await handler(WebSocket(scope, receive, send))

    return app


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message["bytes"])


# Echo ----------------------------------------------------------------------------------


def test_text_and_bytes_echo() -> None:
    with TestClient(ws_app(echo)).websocket_connect("/ws") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"\x00\x01"


def test_json_echo_in_text_and_binary_frames() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(await websocket.receive_json())
        await websocket.send_json(await websocket.receive_json(mode="binary"), mode="binary")
        await websocket.close()

    with TestClient(ws_app(handler)).websocket_connect("/ws") as ws:
        ws.send_json({"a": [1, 2]})
        assert ws.receive_json() == {"a": [1, 2]}
        ws.send_json({"b": None}, mode="binary")
        assert ws.receive_json(mode="binary") == {"b": None}


def test_iter_text_ends_cleanly_when_the_client_leaves() -> None:
    seen: list[str] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            seen.append(text)
        seen.append("done")

    with TestClient(ws_app(handler)).websocket_connect("/ws") as ws:
        ws.send_text("a")
        ws.send_text("b")
    assert seen == ["a", "b", "done"]


def test_iter_bytes_and_iter_json() -> None:
    seen: list[Any] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        async for data in websocket.iter_bytes():
            seen.append(data)
            break
        async for value in websocket.iter_json():
            seen.append(value)

    with TestClient(ws_app(handler)).websocket_connect("/ws") as ws:
        ws.send_bytes(b"raw")
        ws.send_json([1])
    assert seen == [b"raw", [1]]


def test_scope_of_a_websocket() -> None:
    scopes: list[Scope] = []

    async def handler(websocket: WebSocket) -> None:
        scopes.append(websocket.scope)
        await websocket.accept()

    client = TestClient(ws_app(handler), headers={"x-default": "1"}, cookies={"sid": "s"})
    with client.websocket_connect("/chat/1?room=a%20b", headers={"x-extra": "2"}):
        pass
    scope = scopes[0]
    assert scope["type"] == "websocket"
    assert scope["asgi"]["version"] == "3.0"
    assert scope["scheme"] == "ws"
    assert scope["path"] == "/chat/1"
    assert scope["query_string"] == b"room=a%20b"
    assert scope["subprotocols"] == []
    assert scope["client"] == ("testclient", 50000)
    headers = dict(scope["headers"])
    assert headers[b"upgrade"] == b"websocket"
    assert headers[b"sec-websocket-version"] == b"13"
    assert headers[b"x-default"] == b"1"
    assert headers[b"x-extra"] == b"2"
    assert headers[b"cookie"] == b"sid=s"


def test_wss_scheme_for_https_base_url() -> None:
    schemes: list[str] = []

    async def handler(websocket: WebSocket) -> None:
        schemes.append(websocket.scope["scheme"])
        await websocket.accept()

    with TestClient(ws_app(handler), base_url="https://testserver").websocket_connect("/"):
        pass
    assert schemes == ["wss"]


# Handshake -----------------------------------------------------------------------------


def test_subprotocol_negotiation() -> None:
    async def handler(websocket: WebSocket) -> None:
        assert websocket.subprotocols == ["v1.chat", "v2.chat"]
        await websocket.accept(subprotocol="v2.chat", headers={"X-Server": "trivium"})
        await websocket.close()

    client = TestClient(ws_app(handler))
    with client.websocket_connect("/ws", subprotocols=["v1.chat", "v2.chat"]) as ws:
        assert ws.accepted_subprotocol == "v2.chat"
        assert ws.extra_headers == [(b"x-server", b"trivium")]


def test_accepting_an_unoffered_subprotocol_is_an_error() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="v3")

    client = TestClient(ws_app(handler))
    with pytest.raises(ValueError, match="'v3' was not offered"):
        with client.websocket_connect("/ws", subprotocols=["v1"]):
            pass  # pragma: no cover


def test_closing_before_accept_rejects_the_handshake() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.close(code=4403, reason="not allowed")

    with pytest.raises(WebSocketRejected) as caught:
        with TestClient(ws_app(handler)).websocket_connect("/ws"):
            pass  # pragma: no cover
    assert caught.value.code == 4403
    assert caught.value.reason == "not allowed"
    assert caught.value.status_code == 403


def test_denial_response_is_reported() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert "websocket.http.response" in scope["extensions"]
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": b"log in", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b" first"})

    with pytest.raises(WebSocketRejected) as caught:
        with TestClient(app).websocket_connect("/ws"):
            pass  # pragma: no cover
    assert caught.value.status_code == 401
    assert caught.value.body == b"log in first"
    assert caught.value.headers == [(b"content-type", b"text/plain")]


def test_app_that_never_accepts_is_a_500_rejection() -> None:
    async def handler(websocket: WebSocket) -> None:
        return None

    with pytest.raises(WebSocketRejected) as caught:
        with TestClient(ws_app(handler)).websocket_connect("/ws"):
            pass  # pragma: no cover
    assert caught.value.status_code == 500


# Closing -------------------------------------------------------------------------------


def test_server_close_raises_disconnect_with_code_and_reason() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("bye")
        await websocket.close(code=4001, reason="session expired")

    with TestClient(ws_app(handler)).websocket_connect("/ws") as ws:
        assert ws.receive_text() == "bye"
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_text()
        assert (caught.value.code, caught.value.reason) == (4001, "session expired")
        assert ws.receive() == {
            "type": "websocket.close",
            "code": 4001,
            "reason": "session expired",
        }


def test_client_close_reaches_the_app_as_disconnect_with_code() -> None:
    closed: list[tuple[int, str]] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            closed.append((exc.code, exc.reason))
            assert websocket.client_state is WebSocketState.DISCONNECTED

    with TestClient(ws_app(handler)).websocket_connect("/ws") as ws:
        ws.close(code=4000, reason="done here")
    assert closed == [(4000, "done here")]


def test_leaving_the_block_closes_with_1000() -> None:
    closed: list[int] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_bytes()
        except WebSocketDisconnect as exc:
            closed.append(exc.code)
            await websocket.close()  # after the client left: nothing is sent, no error

    with TestClient(ws_app(handler)).websocket_connect("/ws"):
        pass
    assert closed == [1000]


def test_app_sending_after_the_client_left_gets_disconnect_1006() -> None:
    outcomes: list[int] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        assert (await websocket.receive())["type"] == "websocket.disconnect"
        try:
            await websocket.send_text("anyone there?")  # the server's send fails
        except WebSocketDisconnect as exc:
            outcomes.append(exc.code)
        assert websocket.application_state is WebSocketState.DISCONNECTED

    with TestClient(ws_app(handler)).websocket_connect("/ws"):
        pass
    assert outcomes == [1006]


def test_app_exception_is_raised_in_the_test() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise ValueError("handler crashed")

    with pytest.raises(ValueError, match="handler crashed"):
        converse(handler, "x")


def test_a_routes_error_is_raised_where_the_test_reads_as_in_starlette() -> None:
    """The route closes with 1011 and re-raises: the test sees the error, not the close."""
    from trivium import App

    app = App()

    @app.websocket("/ws")
    async def crashing(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        raise RuntimeError("boom")

    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "hi"
        with pytest.raises(RuntimeError, match="boom"):
            ws.receive_text()
    with TestClient(app, raise_server_exceptions=False) as client:
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_text() == "hi"
            with pytest.raises(WebSocketDisconnect) as caught:
                ws.receive_text()
    assert caught.value.code == 1011


def test_app_exception_closes_with_1011_when_not_raised() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        raise ValueError("handler crashed")

    client = TestClient(ws_app(handler), raise_server_exceptions=False)
    with client.websocket_connect("/ws") as ws:
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_text()
    assert caught.value.code == 1011


def test_websocket_inside_the_lifespan_block() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["greeting"] = "hi"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        websocket = WebSocket(scope, receive, send)
        await websocket.accept()
        await websocket.send_text(websocket.scope["state"]["greeting"])
        await websocket.close()

    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "hi"


# The WebSocket class's misuse errors ---------------------------------------------------


def converse(handler: Handler, text: str) -> None:
    with TestClient(ws_app(handler)).websocket_connect("/ws") as ws:
        ws.send_text(text)
        ws.receive_text()


def run_expecting(handler: Handler, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        converse(handler, "x")


def run_after_close_expecting(handler: Handler, match: str) -> None:
    # The test sees the close first; the app's later error surfaces when the block ends.
    with pytest.raises(RuntimeError, match=match):
        with TestClient(ws_app(handler)).websocket_connect("/ws") as ws:
            assert ws.receive()["type"] == "websocket.close"


def test_send_before_accept_is_an_error() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.send_text("too early")

    run_expecting(handler, RuntimeError, r"call `await websocket.accept\(\)` first")


def test_receive_before_accept_is_an_error() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.receive_text()

    run_expecting(handler, RuntimeError, "not accepted yet")


def test_send_after_close_is_an_error() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()
        await websocket.send_text("too late")

    run_after_close_expecting(handler, "already closed")


def test_receive_after_close_is_an_error() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()
        await websocket.receive_text()

    run_after_close_expecting(handler, "already closed")


def test_accepting_twice_is_an_error() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.accept()

    run_expecting(handler, RuntimeError, "already accepted")


def test_receive_after_disconnect_is_an_error() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        assert (await websocket.receive())["type"] == "websocket.disconnect"
        await websocket.receive()

    with pytest.raises(RuntimeError, match="already disconnected"):
        with TestClient(ws_app(handler)).websocket_connect("/ws") as ws:
            ws.close()


def test_wrong_frame_type_is_a_websocket_exception() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_bytes()

    run_expecting(handler, WebSocketException, "Expected a binary message")


def test_malformed_json_is_a_websocket_exception_with_1007() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_json()

    with pytest.raises(WebSocketException, match="Malformed JSON") as caught:
        converse(handler, "{not json")
    assert caught.value.code == 1007


def test_unknown_json_mode_is_an_error() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({}, mode="xml")  # type: ignore[arg-type]

    run_expecting(handler, ValueError, 'mode must be "text" or "binary"')


def test_states_follow_the_connection() -> None:
    states: list[tuple[WebSocketState, WebSocketState]] = []

    async def handler(websocket: WebSocket) -> None:
        states.append((websocket.client_state, websocket.application_state))
        await websocket.accept()
        states.append((websocket.client_state, websocket.application_state))
        await websocket.close()
        states.append((websocket.client_state, websocket.application_state))

    with TestClient(ws_app(handler)).websocket_connect("/ws"):
        pass
    c, d = WebSocketState.CONNECTED, WebSocketState.DISCONNECTED
    assert states == [(WebSocketState.CONNECTING, WebSocketState.CONNECTING), (c, c), (c, d)]


def test_websocket_needs_a_websocket_scope() -> None:
    async def receive() -> Message:
        return {}  # pragma: no cover

    async def send(message: Message) -> None:
        return None  # pragma: no cover

    with pytest.raises(ValueError, match="needs a 'websocket' scope"):
        WebSocket({"type": "http"}, receive, send)


def test_disconnect_exception_defaults() -> None:
    exc = WebSocketDisconnect()
    assert (exc.code, exc.reason) == (1000, "")
    assert repr(WebSocketDisconnect(4000, "x")) == "WebSocketDisconnect(code=4000, reason='x')"


# AsyncTestClient -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_session_echo_and_close() -> None:
    client = AsyncTestClient(ws_app(echo))
    async with client.websocket_connect("/ws") as ws:
        await ws.send_text("hi")
        assert await ws.receive_text() == "hi"
        await ws.send_json({"n": 1}, mode="binary")
        assert await ws.receive_json(mode="binary") == {"n": 1}
        await ws.send_bytes(b"b")
        assert await ws.receive_bytes() == b"b"


@pytest.mark.anyio
async def test_async_session_rejection_and_server_close() -> None:
    async def reject(websocket: WebSocket) -> None:
        await websocket.close(4403)

    with pytest.raises(WebSocketRejected) as caught:
        async with AsyncTestClient(ws_app(reject)).websocket_connect("/ws"):
            pass  # pragma: no cover
    assert caught.value.code == 4403

    async def close_later(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="p")
        await websocket.close(4001, "bye")

    async with AsyncTestClient(ws_app(close_later)) as client:
        async with client.websocket_connect("/ws", subprotocols=["p"]) as ws:
            assert ws.accepted_subprotocol == "p"
            with pytest.raises(WebSocketDisconnect) as closed:
                await ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (4001, "bye")


@pytest.mark.anyio
async def test_async_session_client_close_reaches_the_app() -> None:
    codes: list[int] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            codes.append(exc.code)

    async with AsyncTestClient(ws_app(handler)).websocket_connect("/ws") as ws:
        await ws.close(4002)
    assert codes == [4002]


# Raw messages and misuse on the client side --------------------------------------------


def test_raw_messages_both_ways() -> None:
    received: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        received.append(await receive())
        await send({"type": "websocket.accept", "headers": [(b"x-a", b"1")]})
        received.append(await receive())
        await send({"type": "websocket.send", "text": "pong"})
        received.append(await receive())

    with TestClient(app).websocket_connect("/ws") as ws:
        assert ws.extra_headers == [(b"x-a", b"1")]
        ws.send({"type": "websocket.receive", "text": "ping"})
        assert ws.receive() == {"type": "websocket.send", "text": "pong"}
        ws.send({"type": "websocket.disconnect", "code": 4005})
    assert [m["type"] for m in received] == [
        "websocket.connect",
        "websocket.receive",
        "websocket.disconnect",
    ]
    assert received[2]["code"] == 4005


def test_client_misuse_is_reported() -> None:
    with TestClient(ws_app(echo)).websocket_connect("/ws") as ws:
        with pytest.raises(ValueError, match="a client sends only"):
            ws.send({"type": "websocket.send", "text": "x"})
        with pytest.raises(ValueError, match='mode must be "text" or "binary"'):
            ws.send_json({}, mode="xml")  # type: ignore[arg-type]
        ws.send_bytes(b"b")
        with pytest.raises(TypeError, match="expected a text message"):
            ws.receive_text()
        ws.close()
        with pytest.raises(RuntimeError, match="session is closed"):
            ws.send_text("x")


def test_app_breaking_the_protocol_is_reported() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.send", "text": "no handshake"})

    with pytest.raises(RuntimeError, match=r"call accept first"):
        with TestClient(app).websocket_connect("/ws"):
            pass  # pragma: no cover


def test_accept_takes_raw_header_pairs() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept(headers=[(b"X-Raw", b"1")])

    with TestClient(ws_app(handler)).websocket_connect("/ws") as ws:
        assert ws.extra_headers == [(b"x-raw", b"1")]


async def report(websocket: WebSocket) -> None:
    await websocket.accept()
    cookies, query = websocket.cookies, websocket.query_params
    await websocket.send_json({"token": cookies.get("token"), "q": query.get("q")})
    await websocket.close()


def test_handshake_cookies_and_params_on_top_of_the_clients() -> None:
    client = TestClient(ws_app(report))
    with client.websocket_connect("/ws", cookies={"token": "abc"}, params={"q": "1"}) as ws:
        assert ws.receive_json() == {"token": "abc", "q": "1"}
    client.cookies.set("token", "kept")
    with client.websocket_connect("/ws?q=2") as ws:
        assert ws.receive_json() == {"token": "kept", "q": "2"}


@pytest.mark.anyio
async def test_async_handshake_cookies_and_params() -> None:
    client = AsyncTestClient(ws_app(report))
    async with client.websocket_connect("/ws", cookies={"token": "a"}, params={"q": "3"}) as ws:
        assert await ws.receive_json() == {"token": "a", "q": "3"}
