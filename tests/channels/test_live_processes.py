"""`trivium run` processes share channels through Redis: fan-out, resumption, presence.

Three processes (two over RSGI, the default, one over ASGI): a message posted to one
reaches websocket and event-stream clients of all three; and a process killed with
SIGKILL loses its members within a few heartbeats.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from tests import live
from tests.channels.conftest import drop_keys
from tests.channels.conftest import new_prefix
from tests.channels.conftest import redis_url

pytestmark = pytest.mark.live


@contextlib.contextmanager
def server(env: dict[str, str], interface: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    with live.trivium_run(
        "tests.channels.chatapp:app",
        "--interface",
        interface,
        env=env,
        ready_path="/plaintext",
        timeout=20,
    ) as running:
        yield running.url, running.process


@pytest.fixture
def environment() -> Iterator[dict[str, str]]:
    url = redis_url()
    prefix = new_prefix()
    yield live.environment(CHAT_REDIS_URL=url, CHAT_PREFIX=prefix, CHAT_HEARTBEAT="0.2")
    drop_keys(url, prefix)


def ws_url(url: str, path: str) -> str:
    return url.replace("http://", "ws://") + path


def test_a_message_posted_to_one_process_reaches_clients_of_all_three(
    environment: dict[str, str],
) -> None:
    from websockets.sync.client import connect

    with (
        server(environment, "rsgi") as (one, _),
        server(environment, "asgi") as (two, _),
        server(environment, "rsgi") as (three, _),
    ):
        with (
            connect(ws_url(one, "/rooms/7"), open_timeout=5) as on_one,
            connect(ws_url(two, "/rooms/7"), open_timeout=5) as on_two,
            connect(ws_url(three, "/rooms/7"), open_timeout=5) as on_three,
            httpx.stream("GET", two + "/rooms/7/events", timeout=10) as stream,
        ):
            for ws in (on_one, on_two, on_three):
                assert json.loads(ws.recv(timeout=5)) == {"type": "ready"}
            lines = stream.iter_lines()
            assert next(lines) == ": subscribed"
            posted = httpx.post(one + "/rooms/7", json={"text": "hello"}).json()["id"]
            on_two.send(json.dumps({"text": "from two"}))
            for ws in (on_one, on_two, on_three):
                frames = [json.loads(ws.recv(timeout=5)) for _ in range(2)]
                assert [f["data"] for f in frames] == [{"text": "hello"}, {"text": "from two"}]
                assert frames[0]["id"] == posted
            event: list[str] = []
            for line in lines:
                if line.startswith(("id:", "data:")):
                    event.append(line)
                    if len(event) == 2:
                        break
            assert event == [f"id: {posted}", 'data: {"text":"hello"}']
        # A client reconnecting to another process resumes after its last event.
        headers = {"last-event-id": posted}
        with httpx.stream("GET", three + "/rooms/7/events", headers=headers, timeout=10) as again:
            data = []
            for line in again.iter_lines():
                if line.startswith("data:"):
                    data.append(line)
                    break
        assert data == ['data: {"text":"from two"}']


def test_presence_spans_processes_and_a_killed_process_members_vanish(
    environment: dict[str, str],
) -> None:
    from websockets.sync.client import connect

    with server(environment, "asgi") as (one, victim), server(environment, "rsgi") as (two, _):
        with connect(ws_url(two, "/rooms/3"), open_timeout=5) as watcher:
            assert json.loads(watcher.recv(timeout=5)) == {"type": "ready"}
            ada = connect(ws_url(one, "/rooms/3?name=ada"), open_timeout=5)
            joined = json.loads(watcher.recv(timeout=5))
            assert (joined["type"], joined["data"]) == ("join", {"name": "ada"})
            assert httpx.get(two + "/rooms/3/members").json() == [{"name": "ada"}]
            os.killpg(victim.pid, signal.SIGKILL)
            killed = time.monotonic()
            left = json.loads(watcher.recv(timeout=10))
            assert (left["type"], left["data"]) == ("leave", {"name": "ada"})
            # Three heartbeats of 0.2 s, plus one sweep, plus slack for a loaded machine.
            assert time.monotonic() - killed < 3
            assert httpx.get(two + "/rooms/3/members").json() == []
            with contextlib.suppress(Exception):
                ada.close()
