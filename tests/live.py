"""Run `trivium run` as a separate process for the live tests, and stop it cleanly.

One copy of what every live test needs: a free port, an environment whose PYTHONPATH
finds this checkout, the server started in its own process group with its output kept
in a file, a readiness poll that fails at once (with that output) when the server
exits, and a stop that signals, waits, then kills what is left of the group.

    with live.trivium_run("tests.e2e.live_app:app", "--interface", "asgi") as server:
        httpx.get(server.url + "/plaintext")
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(*paths: Path | str, **values: str) -> dict[str, str]:
    """This process's environment, with `paths`, the checkout and its sources importable."""
    python_path = [*map(str, paths), str(SRC), str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(path for path in python_path if path),
        **values,
    }


def trivium_command(*args: str) -> list[str]:
    """The command line of `trivium ARGS`, run by this interpreter."""
    return [sys.executable, "-m", "trivium.cli", *args]


@dataclass
class Server:
    """A started process, the base URL it serves and the file its output goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start(
    command: list[str], *, log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    """Start `command` in a new process group, its stdout and stderr appended to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - the tests' own commands
            command,
            cwd=cwd,
            env=env if env is not None else environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_ready(
    server: Server,
    path: str = "/",
    *,
    ready: Callable[[httpx.Response], bool] = lambda response: True,
    timeout: float = 30.0,
) -> None:
    """Poll `path` until an answer passes `ready`; fail with the server's output otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            pytest.fail(f"server exited with {server.process.returncode}:\n{server.output()}")
        with contextlib.suppress(httpx.TransportError):
            if ready(httpx.get(server.url + path, timeout=1, verify=False)):
                return
        if time.monotonic() > deadline:
            pytest.fail(f"server not ready within {timeout:g} s:\n{server.output()}")
        time.sleep(0.05)


def stop(
    process: subprocess.Popen[bytes], sig: int = signal.SIGINT, *, grace: float = 10.0
) -> None:
    """Send `sig` to the process group, wait up to `grace` s, then kill what is left."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    with contextlib.suppress(ProcessLookupError):  # workers the server left behind
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(5)


def launch(
    target: str,
    *args: str,
    log_dir: Path,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    port: int | None = None,
    scheme: str = "http",
) -> Server:
    """Start `trivium run TARGET ARGS --port PORT` without waiting for it to answer.

    `port` is a free one unless given; pass `port=...` with the port already in `args`
    (or in `env`) to have the command line left as it is.
    """
    command = trivium_command("run", target, *args)
    if port is None:
        port = free_port()
        command += ["--port", str(port)]
    log = log_dir / f"server-{port}.log"
    return Server(f"{scheme}://127.0.0.1:{port}", start(command, log=log, env=env, cwd=cwd), log)


@contextlib.contextmanager
def trivium_run(
    target: str,
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    port: int | None = None,
    scheme: str = "http",
    ready_path: str = "/",
    ready: Callable[[httpx.Response], bool] = lambda response: True,
    timeout: float = 30.0,
    log_dir: Path | None = None,
) -> Iterator[Server]:
    """Run `launch(...)` until the block ends, once it answers `ready_path`; yield it.

    Output goes to a file in `log_dir` (a temporary directory unless given), shown when
    the server fails to start.
    """
    with contextlib.ExitStack() as stack:
        if log_dir is None:
            log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        server = launch(target, *args, log_dir=log_dir, env=env, cwd=cwd, port=port, scheme=scheme)
        try:
            wait_until_ready(server, ready_path, ready=ready, timeout=timeout)
            yield server
        finally:
            stop(server.process)


def certificate(folder: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for `localhost` and 127.0.0.1 (and its key) in `folder`.

    Returns the PEM files' paths: `(cert, key)`, for `--ssl-certfile`/`--ssl-keyfile`.
    """
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
