from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from examples.channels.app import app
from trivium.testing import TestClient
from trivium.testing import WebSocketRejected
from trivium.testing import WebSocketTestSession


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app) as running:
        yield running


def arrive(session: WebSocketTestSession) -> dict[str, Any]:
    """Read the two frames on arrival (own join, member list; in either order)."""
    frames = {frame["type"]: frame for frame in (session.receive_json(), session.receive_json())}
    assert set(frames) == {"join", "members"}
    return frames


def test_chat_members_see_each_other_join_talk_and_leave(client: TestClient) -> None:
    with client.websocket_connect("/rooms/lobby?name=ada") as ada:
        assert arrive(ada)["members"]["data"] == [{"name": "ada"}]
        with client.websocket_connect("/rooms/lobby?name=bob") as bob:
            joined = ada.receive_json()
            assert (joined["type"], joined["data"]) == ("join", {"name": "bob"})
            members = arrive(bob)["members"]["data"]
            assert sorted(m["name"] for m in members) == ["ada", "bob"]
            bob.send_text("hello")
            for session in (ada, bob):
                frame = session.receive_json()
                assert frame == {
                    "type": "message",
                    "channel": "room:lobby",
                    "id": None,
                    "data": {"from": "bob", "text": "hello"},
                }
        left = ada.receive_json()
        assert (left["type"], left["data"]) == ("leave", {"name": "bob"})
        assert client.get("/rooms/lobby/members").json() == [{"name": "ada"}]


def test_staff_rooms_need_the_staff_key(client: TestClient) -> None:
    with pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/rooms/staff?name=eve").__enter__()
    assert refused.value.status_code == 403  # (over ASGI: close 1008, naming the channel)
    headers = {"x-staff-key": "letmein"}
    with client.websocket_connect("/rooms/staff?name=sam", headers=headers) as sam:
        assert arrive(sam)["join"]["data"] == {"name": "sam"}


def test_invalid_room_names_are_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/rooms/Not A Room?name=x").__enter__()
    assert refused.value.status_code == 403


def test_the_dashboard_streams_orders_and_resumes_after_a_reconnect(client: TestClient) -> None:
    with client.stream("GET", "/dashboard/events") as response:
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        lines = response.iter_lines()
        assert next(lines) == ": subscribed"
        first = client.post("/orders", json={"product": "tea", "amount": 4.5}).json()["event"]
        received = [line for _, line in zip(range(4), lines, strict=False)]
    assert received == [
        "",
        f"id: {first}",
        'data: {"order":{"product":"tea","amount":4.5},"kind":"order"}',
        "",
    ]
    second = client.post("/orders", json={"product": "cake", "amount": 3}).json()["event"]
    with client.stream("GET", "/dashboard/events", headers={"last-event-id": first}) as again:
        lines = again.iter_lines()
        missed = [line for _, line in zip(range(4), lines, strict=False)]
    assert missed[2:4] == [
        f"id: {second}",
        'data: {"order":{"product":"cake","amount":3.0},"kind":"order"}',
    ]


def test_bad_orders_are_a_422(client: TestClient) -> None:
    assert client.post("/orders", json={"product": "", "amount": -1}).status_code == 422


def test_ready(client: TestClient) -> None:
    assert client.get("/ready").json() == {"ready": True}
