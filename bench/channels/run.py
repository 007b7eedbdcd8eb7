"""Fan-out benchmark: N websocket subscribers over 2 server processes sharing Redis.

A publisher (this process, through its own `Channels`, as a task worker would) sends
messages of `--size` bytes at `--rate` per second for `--seconds`; each carries its send
time. The subscribers (asyncio websocket clients in this process) record when each
arrives. Reported: messages published, deliveries expected and made, delivered
messages/s, p50/p99/max delivery latency, resync events and drops (deliveries neither
received nor announced by a resync: must be 0).

    .venv/bin/python bench/channels/run.py --subscribers 1000 --rate 100 --seconds 10
    .venv/bin/python bench/channels/run.py --framework django ...   # Django Channels

`--framework django` serves the same subscriber with Django Channels and channels_redis
(`bench/channels/django_app.py`, uvicorn) and publishes with the layer's `group_send`.

Wall-clock figures belong here, never in tests. Run it on a quiet machine: the clients
share the CPU with the servers, so large N measures the client side too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def servers(env: dict[str, str], count: int, framework: str) -> Iterator[list[str]]:
    """Start `count` server processes of the benchmark app; yield their URLs."""
    processes: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for _ in range(count):
            port = _free_port()
            if framework == "django":
                target = "bench.channels.django_app:application"
                command = [sys.executable, "-m", "uvicorn", target, "--log-level", "warning"]
            else:
                command = [sys.executable, "-m", "trivium.cli", "run", "bench.channels.app:app"]
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                    [*command, "--port", str(port)],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(url + "/ready", timeout=1).json()["ready"]:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit(f"{url} did not start")
                time.sleep(0.1)
        yield urls
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


class Client:
    """One subscriber: its latencies, message count and resync events."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.resyncs: list[int | None] = []

    async def run(
        self, url: str, connected: asyncio.Event, total: int, stop: asyncio.Event
    ) -> None:
        from websockets.asyncio.client import connect

        async with connect(url, max_size=None, open_timeout=60) as ws:
            connected.set()
            while len(self.latencies) + sum(d or 0 for d in self.resyncs) < total:
                receive = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait(
                    {receive, asyncio.ensure_future(stop.wait())},
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if receive not in done:
                    receive.cancel()
                    return
                frame = orjson.loads(receive.result())
                if frame["type"] == "resync":
                    self.resyncs.append(frame["data"]["dropped"])
                elif frame["type"] == "message":
                    self.latencies.append(time.time() - frame["data"]["sent"])


async def publish(args: argparse.Namespace, prefix: str) -> int:
    """Publish `rate * seconds` messages to the group at a steady rate; return the count."""
    padding = "x" * max(0, args.size - 40)
    count = int(args.rate * args.seconds)
    if args.framework == "django":
        from channels_redis.core import RedisChannelLayer

        layer = RedisChannelLayer(hosts=[args.redis], prefix=prefix)

        async def send(message: dict[str, object]) -> None:
            text = orjson.dumps(message).decode()
            await layer.group_send("bench", {"type": "bench.message", "text": text})

    else:
        from trivium.channels import Channels
        from trivium.channels import RedisBackend

        channels = Channels(RedisBackend(args.redis, prefix=prefix))

        async def send(message: dict[str, object]) -> None:
            await channels.publish("bench", message)

    started = time.monotonic()
    for n in range(count):
        delay = started + n / args.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await send({"n": n, "sent": time.time(), "pad": padding})
    if args.framework != "django":
        await channels.backend.stop()
    return count


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(len(values) * share))] if values else float("nan")


async def measure(args: argparse.Namespace, urls: list[str], prefix: str) -> dict[str, object]:
    clients = [Client() for _ in range(args.subscribers)]
    total = int(args.rate * args.seconds)
    stop = asyncio.Event()
    tasks = []
    for i, client in enumerate(clients):
        connected = asyncio.Event()
        url = urls[i % len(urls)].replace("http://", "ws://") + "/ws"
        tasks.append(asyncio.create_task(client.run(url, connected, total, stop)))
        await connected.wait()
    # Every socket is subscribed once the servers count them.
    async with httpx.AsyncClient() as http:
        while sum([(await http.get(u + "/ready")).json()["subscribers"] for u in urls]) < len(
            clients
        ):
            await asyncio.sleep(0.05)
    started = time.monotonic()
    published = await publish(args, prefix)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    elapsed = time.monotonic() - started
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted(x for c in clients for x in c.latencies)
    resynced = sum(d or 0 for c in clients for d in c.resyncs)
    expected = published * len(clients)
    return {
        "framework": args.framework,
        "subscribers": len(clients),
        "servers": len(urls),
        "rate": args.rate,
        "size": args.size,
        "published": published,
        "expected_deliveries": expected,
        "delivered": len(latencies),
        "delivered_per_s": round(len(latencies) / elapsed),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round((latencies[-1] if latencies else float("nan")) * 1000, 2),
        "resync_events": sum(len(c.resyncs) for c in clients),
        "dropped_with_resync": resynced,
        "silent_drops": expected - len(latencies) - resynced,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100, help="messages per second")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--size", type=int, default=1024, help="bytes per message")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--framework", choices=["trivium", "django"], default="trivium")
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "BENCH_REDIS_URL": args.redis,
        "BENCH_PREFIX": prefix,
    }
    with servers(env, args.servers, args.framework) as urls:
        result = asyncio.run(measure(args, urls, prefix))
    print(json.dumps(result, indent=2))  # noqa: T201 - the report


if __name__ == "__main__":
    main()
