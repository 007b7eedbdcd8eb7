from __future__ import annotations

import pytest

from examples.guide import websockets
from examples.guide.websockets import app
from trivium.testing import TestClient
from trivium.testing import WebSocketRejected

client = TestClient(app)

# RSGI (Granian's native interface) carries no close codes or reasons (a refused
# handshake is a plain 403) and reports every client close as 1000: the tests that
# check those run over ASGI only.
asgi_only_reasons = pytest.mark.asgi_only("RSGI does not carry close reasons or client codes")


def test_chat_round_trip() -> None:
    with client.websocket_connect("/rooms/lobby?token=user-ann") as ws:
        assert ws.receive_json() == {"joined": "lobby", "user": "ann"}
        ws.send_json({"text": "hi"})
        assert ws.receive_json() == {"user": "ann", "text": "hi"}


def test_client_disconnect_is_seen_by_the_handler() -> None:
    websockets.left.clear()
    with client.websocket_connect("/rooms/lobby?token=user-bob") as ws:
        ws.receive_json()
        ws.close()
    assert websockets.left == ["bob left with code 1000"]


@asgi_only_reasons
def test_the_handler_sees_the_client_close_code() -> None:
    websockets.left.clear()
    with client.websocket_connect("/rooms/lobby?token=user-bob") as ws:
        ws.receive_json()
        ws.close(1001)
    assert websockets.left == ["bob left with code 1001"]


def test_bad_token_refuses_the_handshake() -> None:
    with (
        pytest.raises(WebSocketRejected) as rejected,
        client.websocket_connect("/rooms/x?token=guest"),
    ):
        pass
    assert rejected.value.status_code == 403  # over ASGI the close code is 1008, too


@asgi_only_reasons
def test_invalid_parameters_refuse_the_handshake_with_1008() -> None:
    with pytest.raises(WebSocketRejected) as rejected, client.websocket_connect("/rooms/lobby"):
        pass
    assert rejected.value.code == 1008


def test_wrong_message_closes_with_the_exception_code() -> None:
    with client.websocket_connect("/rooms/lobby?token=user-ann") as ws:
        ws.receive_json()
        ws.send_json(["not", "an", "object"])
        message = ws.receive()
    assert (message["type"], message["code"]) == ("websocket.close", 1003)


def test_unknown_path_is_refused() -> None:
    with pytest.raises(WebSocketRejected), client.websocket_connect("/nowhere"):
        pass


@asgi_only_reasons
def test_close_reasons() -> None:
    with (
        pytest.raises(WebSocketRejected) as rejected,
        client.websocket_connect("/rooms/x?token=guest"),
    ):
        pass
    assert rejected.value.reason == "Unknown token"
    with pytest.raises(WebSocketRejected) as rejected, client.websocket_connect("/rooms/lobby"):
        pass
    assert rejected.value.reason == "Invalid parameters: query.token: Field required"
    with client.websocket_connect("/rooms/lobby?token=user-ann") as ws:
        ws.receive_json()
        ws.send_json(["not", "an", "object"])
        assert ws.receive()["reason"] == "Send {'text': ...}"
    with pytest.raises(WebSocketRejected) as rejected, client.websocket_connect("/nowhere"):
        pass
    assert rejected.value.reason == "Not Found"
