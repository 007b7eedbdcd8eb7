"""Event streams bound to channels: live events, resumption with Last-Event-ID, headers."""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator

import orjson
import pytest
from tests.channels.chatapp import make_app

from trivium.channels import Backend
from trivium.channels import Channels
from trivium.channels import Deliver
from trivium.channels import MemoryBackend
from trivium.testing import TestClient


@pytest.fixture
def client(make_backend: Callable[[], Backend]) -> Iterator[TestClient]:
    with TestClient(make_app(make_backend())) as running:
        yield running


def read_events(lines: Iterator[str], count: int) -> list[dict[str, str]]:
    """Parse `count` events (comments skipped) from an event stream's lines."""
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            continue
        if not line:
            if current:
                events.append(current)
                current = {}
                if len(events) == count:
                    return events
            continue
        field, _, value = line.partition(": ")
        current[field] = value
    raise AssertionError(f"the stream ended after {events}")


def wait_subscribed(lines: Iterator[str]) -> None:
    assert next(lines) == ": subscribed"
    assert next(lines) == ""


def test_the_stream_sends_published_events_with_ids(client: TestClient) -> None:
    with client.stream("GET", "/rooms/1/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        lines = response.iter_lines()
        wait_subscribed(lines)
        posted = [client.post("/rooms/1", json={"n": n}).json()["id"] for n in range(3)]
        events = read_events(lines, 3)
    assert [e["id"] for e in events] == posted
    assert [orjson.loads(e["data"]) for e in events] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all("event" not in e for e in events)


def test_a_reconnecting_client_gets_what_it_missed_then_live_events(client: TestClient) -> None:
    ids = [client.post("/rooms/2", json={"n": n}).json()["id"] for n in range(5)]
    headers = {"last-event-id": ids[1]}
    with client.stream("GET", "/rooms/2/events", headers=headers) as response:
        lines = response.iter_lines()
        wait_subscribed(lines)
        missed = read_events(lines, 3)
        live_id = client.post("/rooms/2", json={"n": 5}).json()["id"]
        live = read_events(lines, 1)
    assert [e["id"] for e in missed] == ids[2:]
    assert [orjson.loads(e["data"])["n"] for e in missed] == [2, 3, 4]
    assert live[0]["id"] == live_id


def test_a_last_event_id_ahead_of_the_stream_gets_a_resync_then_live_events(
    client: TestClient,
) -> None:
    # An id from another Redis, a Redis restored from an older dump, a skewed clock.
    client.post("/rooms/4", json={"n": 0})
    headers = {"last-event-id": "99999999999999-0"}
    with client.stream("GET", "/rooms/4/events", headers=headers) as response:
        lines = response.iter_lines()
        wait_subscribed(lines)
        assert read_events(lines, 1) == [{"event": "resync", "data": '{"dropped":null}'}]
        live_id = client.post("/rooms/4", json={"n": 1}).json()["id"]
        live = read_events(lines, 1)
    assert live[0]["id"] == live_id
    assert orjson.loads(live[0]["data"]) == {"n": 1}


def test_a_last_event_id_on_a_channel_without_events_gets_a_resync_then_live_events(
    client: TestClient,
) -> None:
    headers = {"last-event-id": "99999999999999-0"}
    with client.stream("GET", "/rooms/8/events", headers=headers) as response:
        lines = response.iter_lines()
        wait_subscribed(lines)
        assert read_events(lines, 1) == [{"event": "resync", "data": '{"dropped":null}'}]
        live_id = client.post("/rooms/8", json={"n": 1}).json()["id"]
        assert read_events(lines, 1)[0]["id"] == live_id


def test_a_malformed_last_event_id_is_a_400(client: TestClient) -> None:
    response = client.get("/rooms/1/events", headers={"last-event-id": "yesterday"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Last-Event-ID 'yesterday' is not an event id of this stream"
    }


def test_a_refused_channel_is_a_403() -> None:
    app = make_app(authorize=lambda connection, channel: channel != "room:secret")
    with TestClient(app) as client:
        response = client.get("/rooms/secret/events")
    assert response.status_code == 403
    assert response.json() == {"detail": "Not allowed to subscribe to channel 'room:secret'"}


def test_leaving_the_stream_unsubscribes(client: TestClient) -> None:
    channels = client.app.plugin(Channels)  # type: ignore[attr-defined]
    with client.stream("GET", "/rooms/3/events") as response:
        wait_subscribed(response.iter_lines())
        assert channels.subscribers("room:3") == 1
    deadline = time.monotonic() + 5
    while channels.subscribers("room:3") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert channels.subscribers("room:3") == 0


class GappyBackend(MemoryBackend):
    """A memory backend whose outages the test triggers (`outage()`)."""

    async def start(self, deliver: Deliver, gap: Callable[[], None]) -> None:
        self.outage = gap
        await super().start(deliver, gap)


def test_after_missed_events_the_stream_ends_and_the_client_resumes_from_history() -> None:
    backend = GappyBackend()
    app = make_app(backend)

    @app.post("/outage")
    async def outage() -> None:
        backend.outage()

    with TestClient(app) as client:
        with client.stream("GET", "/rooms/5/events") as response:
            lines = response.iter_lines()
            wait_subscribed(lines)
            seen = client.post("/rooms/5", json={"n": 0}).json()["id"]
            assert read_events(lines, 1)[0]["id"] == seen
            client.post("/outage")
            rest = list(lines)  # the stream ends
        assert rest == [": missed events: reconnect to resume", "retry: 200", ""]
        missed = client.post("/rooms/5", json={"n": 1}).json()["id"]
        headers = {"last-event-id": seen}
        with client.stream("GET", "/rooms/5/events", headers=headers) as again:
            lines = again.iter_lines()
            wait_subscribed(lines)
            assert read_events(lines, 1)[0]["id"] == missed


def test_without_history_subscribers_get_a_resync_event() -> None:
    backend = GappyBackend()
    app = make_app(backend, history={})

    @app.post("/outage")
    async def outage() -> None:
        backend.outage()

    with TestClient(app) as client, client.stream("GET", "/rooms/6/events") as response:
        lines = response.iter_lines()
        wait_subscribed(lines)
        client.post("/outage")
        assert read_events(lines, 1) == [{"event": "resync", "data": '{"dropped":null}'}]
