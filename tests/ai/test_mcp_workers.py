"""A real server: `trivium run --workers 2` (Granian, RSGI) answers MCP from any worker."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

import trivium

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(trivium.__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.live
def test_two_workers_answer_mcp_calls_without_sessions(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "trivium.cli", "run", "examples.mcp.app:app"]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, "--workers", "2", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"server exited:\n{log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/stats", timeout=5).status_code == 200:
                    break
            time.sleep(0.05)

        async def session(mode: str) -> list[str]:
            # `connection: close`: each request may land on either worker.
            headers = {"connection": "close"}
            async with httpx2.AsyncClient(headers=headers, timeout=10) as http:
                transport = streamable_http_client(f"{base}/mcp", http_client=http)
                async with Client(transport, mode=mode, cache=None) as client:  # type: ignore[arg-type]
                    seen = []
                    for _ in range(3):
                        tools = (await client.list_tools()).tools
                        seen.append(",".join(sorted(t.name for t in tools)))
                        book = await client.call_tool("get_book", {"book_id": 1})
                        assert book.structured_content is not None
                        seen.append(book.structured_content["title"])
                    return seen

        for mode in ("auto", "legacy"):
            seen = anyio.run(session, mode)
            assert seen[1::2] == ["Dune"] * 3
            assert set(seen[0::2]) == {"add_book,categories,export,get_book,shelf_size"}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
