"""Websocket groups: channel events beside the socket's own messages, authorization, origins."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator

import pytest
from tests.channels.chatapp import make_app
from tests.refusals import OVER_RSGI
from tests.refusals import refused_with

from trivium import App
from trivium import WebSocket
from trivium.channels import Backend
from trivium.channels import Channels
from trivium.middleware import ProxyHeadersMiddleware
from trivium.testing import TestClient
from trivium.testing import WebSocketRejected
from trivium.testing import WebSocketTestSession


@pytest.fixture
def client(make_backend: Callable[[], Backend]) -> Iterator[TestClient]:
    with TestClient(make_app(make_backend())) as running:
        yield running


def ready(session: WebSocketTestSession) -> None:
    assert session.receive_json() == {"type": "ready"}


def test_a_message_reaches_every_socket_in_the_room(client: TestClient) -> None:
    with client.websocket_connect("/rooms/1") as ada, client.websocket_connect("/rooms/1") as bob:
        ready(ada)
        ready(bob)
        ada.send_json({"text": "hi"})
        for session in (ada, bob):
            frame = session.receive_json()
            assert frame["type"] == "message"
            assert frame["channel"] == "room:1"
            assert frame["data"] == {"text": "hi"}
            assert isinstance(frame["id"], str)  # room:* keeps history


def test_http_publishes_reach_sockets_and_other_rooms_stay_quiet(client: TestClient) -> None:
    with client.websocket_connect("/rooms/1") as one, client.websocket_connect("/rooms/2") as two:
        ready(one)
        ready(two)
        assert client.post("/rooms/2", json={"n": 2}).status_code == 200
        assert client.post("/rooms/1", json={"n": 1}).status_code == 200
        assert one.receive_json()["data"] == {"n": 1}
        assert two.receive_json()["data"] == {"n": 2}


def test_subscribing_to_a_refused_channel_closes_with_1008(client: TestClient) -> None:
    with client.websocket_connect("/rooms/1") as session:
        ready(session)
        session.send_json({"subscribe": "private:staff"})
        message = session.receive()
        assert message["type"] == "websocket.close"
        assert message["code"] == 1008


def test_an_authorized_socket_subscribes_and_unsubscribes(client: TestClient) -> None:
    with client.websocket_connect("/rooms/1?member=yes") as session:
        ready(session)
        session.send_json({"subscribe": "private:staff"})
        assert session.receive_json() == {"type": "subscribed", "channel": "private:staff"}
        client.post("/rooms/1", json={"n": 1})
        assert session.receive_json()["data"] == {"n": 1}
        session.send_json({"unsubscribe": "room:1"})
        assert session.receive_json() == {"type": "unsubscribed"}
        client.post("/rooms/1", json={"n": 2})
        session.send_json({"subscribe": "room:1"})
        # The publish made while unsubscribed is not delivered: the next frame is the reply.
        assert session.receive_json() == {"type": "subscribed", "channel": "room:1"}


def test_disconnecting_unsubscribes(client: TestClient) -> None:
    channels = client.app.plugin(Channels)  # type: ignore[attr-defined]
    with client.websocket_connect("/rooms/9") as one, client.websocket_connect("/rooms/9") as two:
        ready(one)
        ready(two)
        assert channels.subscribers("room:9") == 2
    assert channels.subscribers("room:9") == 0


@pytest.mark.parametrize(
    ("origin", "opens"),
    [
        ("http://testserver", True),
        ("https://app.example.com", True),
        ("https://evil.example.net", False),
        (None, True),
    ],
)
def test_cookie_carrying_handshakes_must_come_from_a_trusted_origin(
    origin: str | None, opens: bool
) -> None:
    app = make_app(trusted_origins=["https://app.example.com"])
    headers = {"cookie": "session=abc"}
    if origin is not None:
        headers["origin"] = origin
    with TestClient(app) as client:
        if opens:
            with client.websocket_connect("/rooms/1", headers=headers) as session:
                ready(session)
        else:
            with pytest.raises(WebSocketRejected) as refused:
                client.websocket_connect("/rooms/1", headers=headers).__enter__()
            assert refused_with(refused.value, 1008)
            if not OVER_RSGI:  # RSGI carries no close reason
                assert refused.value.reason.startswith(
                    "Origin is neither this app's own nor one of trusted_origins"
                )


def test_behind_a_tls_proxy_the_origin_refusal_says_to_install_proxy_headers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The browser is on https://testserver; the proxy talks plain HTTP to the app.
    headers = {"cookie": "session=abc", "origin": "https://testserver"}
    with TestClient(make_app()) as client, pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/rooms/1", headers=headers).__enter__()
    assert refused.value.status_code == 403
    if not OVER_RSGI:  # RSGI carries no close reason
        assert refused.value.reason.startswith(
            "Origin is https but the app sees http: behind a TLS proxy add ProxyHeadersMiddleware"
        )
    assert "Middleware(ProxyHeadersMiddleware, trusted_proxies=[...])" in caplog.text
    proxied = make_app()
    proxied.add_middleware(ProxyHeadersMiddleware, trusted_proxies=["10.0.0.1"])
    forwarded = {**headers, "x-forwarded-proto": "https"}
    with (
        TestClient(proxied, client=("10.0.0.1", 40000)) as client,
        client.websocket_connect("/rooms/1", headers=forwarded) as session,
    ):
        ready(session)


def test_handshakes_without_cookies_are_not_origin_checked(client: TestClient) -> None:
    with client.websocket_connect("/rooms/1", headers={"origin": "https://elsewhere.test"}) as s:
        ready(s)


def test_an_idle_socket_gets_ping_frames() -> None:
    channels = Channels()
    app = App(plugins=[channels])

    @app.websocket("/quiet")
    async def quiet(websocket: WebSocket) -> None:
        async with channels.connect(websocket, "quiet", ping=0.05):
            async for _ in websocket.iter_text():
                pass

    with TestClient(app) as client, client.websocket_connect("/quiet") as session:
        assert session.receive_json() == {"type": "ping"}
        assert session.receive_json() == {"type": "ping"}


def test_an_invalid_ping_is_refused() -> None:
    with pytest.raises(ValueError, match="ping must be a positive number"):
        Channels().connect(None, ping=0)  # type: ignore[arg-type]


def test_an_invalid_channel_name_from_the_client_closes_with_1008(client: TestClient) -> None:
    with client.websocket_connect("/rooms/1") as session:
        ready(session)
        session.send_json({"subscribe": "has space"})
        message = session.receive()
        assert (message["type"], message["code"]) == ("websocket.close", 1008)


def test_an_invalid_channel_name_in_a_request_is_a_400(client: TestClient) -> None:
    response = client.post("/rooms/has space", json={"n": 1})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "channel names are 1-200 printable ASCII characters without spaces, "
        "not 'room:has space'"
    }
    assert client.get("/rooms/has space/events").status_code == 400


def test_a_reconnecting_socket_gets_what_it_missed_then_live_events_once(
    client: TestClient,
) -> None:
    ids = [client.post("/rooms/9", json={"n": n}).json()["id"] for n in range(4)]
    with client.websocket_connect(f"/rooms/9/live?after={ids[1]}") as session:
        missed = [session.receive_json() for _ in range(2)]
        assert [(frame["id"], frame["data"]) for frame in missed] == [
            (ids[2], {"n": 2}),
            (ids[3], {"n": 3}),
        ]
        live = client.post("/rooms/9", json={"n": 4}).json()["id"]
        session.send_json({"n": 5})  # published by the socket itself
        frames = [session.receive_json() for _ in range(2)]
        assert [frame["data"] for frame in frames] == [{"n": 4}, {"n": 5}]
        assert frames[0]["id"] == live


def test_a_socket_that_missed_more_than_its_queue_holds_gets_a_resync(
    make_backend: Callable[[], Backend],
) -> None:
    with TestClient(make_app(make_backend(), queue_limit=2)) as small:
        first = small.post("/rooms/3", json={"n": 0}).json()["id"]
        for n in range(1, 6):
            small.post("/rooms/3", json={"n": n})
        with small.websocket_connect(f"/rooms/3/live?after={first}") as session:
            frames = [session.receive_json() for _ in range(3)]
        assert [frame["data"] for frame in frames[:2]] == [{"n": 1}, {"n": 2}]
        assert frames[2]["type"] == "resync"  # more were missed: reload the state


def test_an_after_id_ahead_of_the_stream_gets_a_resync_then_live_events(
    client: TestClient,
) -> None:
    # An id from another Redis, a Redis restored from an older dump, a skewed clock.
    client.post("/rooms/5", json={"n": 0})
    with client.websocket_connect("/rooms/5/live?after=99999999999999-0") as session:
        resync = session.receive_json()
        assert (resync["type"], resync["channel"], resync["data"]) == (
            "resync",
            "room:5",
            {"dropped": None},
        )
        live = client.post("/rooms/5", json={"n": 1}).json()["id"]
        frame = session.receive_json()
        assert (frame["id"], frame["data"]) == (live, {"n": 1})


def test_a_malformed_last_event_id_refuses_the_handshake(client: TestClient) -> None:
    with pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/rooms/9/live?after=not-an-id").__enter__()
    assert refused.value.status_code == 403  # as every refused handshake, not 400
    assert refused_with(refused.value, 1008)
