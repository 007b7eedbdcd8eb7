"""Start a server as a pinned subprocess on a free loopback port, and always stop it.

Each server runs in its own session (process group), so stopping it kills the
master and every worker. Waits are bounded by deadlines; nothing loops forever.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.scenarios import BENCH_DIR
from harness.targets import Target

REPO_DIR = BENCH_DIR.parent
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0


class ServerError(Exception):
    """The server did not start or died; the message carries its log tail."""


def server_env() -> dict[str, str]:
    """Return the environment for apps: the repo's src/ first, so trivium imports uninstalled."""
    env = dict(os.environ)
    src = str(REPO_DIR / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def pin(cpu: str | None, cmd: list[str]) -> list[str]:
    """Prefix a command with taskset when a CPU is given and taskset exists."""
    if cpu is None or shutil.which("taskset") is None:
        return cmd
    return ["taskset", "-c", cpu, *cmd]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PREFLIGHT = """
import sys
sys.path.insert(0, ".")
module = __import__(sys.argv[1])
print("rsgi" if hasattr(module.app, "__rsgi__") else "no-rsgi")
"""


def preflight(target: Target) -> str | None:
    """Import the target's module in a fresh interpreter; return why it cannot be served."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", PREFLIGHT, target.module],
            cwd=target.directory,
            env=server_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"importing {target.framework.name}/{target.module}.py took over 60 s"
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["(no output)"]
        return f"{target.framework.name}/{target.module}.py does not import: {lines[-1]}"
    needs_rsgi = target.server == "granian-rsgi" and target.framework.rsgi_attr
    if needs_rsgi and proc.stdout.strip() != "rsgi":
        return f"{target.framework.name}/{target.module}.py: app has no __rsgi__ (yet)"
    return None


def run_setup(framework: str) -> str | None:
    """Run ``python full.py setup`` in a framework's directory; return an error, if any."""
    directory = BENCH_DIR / "apps" / framework
    try:
        proc = subprocess.run(
            [sys.executable, "full.py", "setup"],
            cwd=directory,
            env=server_env(),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{framework}/full.py setup took over 180 s"
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()[-5:] or ["(no output)"]
        return f"{framework}/full.py setup failed: " + "\n".join(lines)
    return None


@dataclass
class Server:
    """A running server process group."""

    target: Target
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Wait until the server answers an HTTP request on its port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"exited with {self.proc.returncode}:\n{self.log_tail()}")
            if _answers_http(self.port):
                return
            time.sleep(0.1)
        raise ServerError(f"not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Terminate the whole process group, then kill what is left."""
        group = self.proc.pid  # start_new_session: the group id is the leader's pid
        _signal_group(group, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=STOP_TIMEOUT)
        _signal_group(group, signal.SIGKILL)  # what ignored SIGTERM, or outlived its master
        self.proc.wait(timeout=STOP_TIMEOUT)


def _group_members(pgid: int) -> list[int]:
    """Return the pids whose process group and session are ``pgid`` (ours only)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and int(fields[3]) == pgid:
            members.append(int(entry.name))
    return members


def _signal_group(pgid: int, sig: int) -> None:
    """Signal each live member of our server's group by pid (never a broad kill)."""
    for pid in _group_members(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _answers_http(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/")
    except OSError:
        return False


def start(target: Target, cpu: str | None, log_dir: Path) -> Server:
    """Start the target's server pinned to ``cpu`` and wait until it answers."""
    port = free_port()
    log_path = log_dir / f"{target.key.replace('/', '_')}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            pin(cpu, target.command(port)),
            cwd=target.directory,
            env=server_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(target, port, proc, log_path)
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


def make_log_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="trivium-bench-"))


# --- memory, from /proc ----------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def rss_kib(pid: int) -> int:
    """Return a process's resident set size (VmRSS) in KiB, or 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _is_helper(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"resource_tracker" in cmdline or b"semaphore_tracker" in cmdline


def memory(root: int) -> tuple[int, int]:
    """Return (worker RSS, whole process tree RSS) in KiB for a server rooted at ``root``.

    The worker is the largest descendant process that is not a multiprocessing helper
    (Granian and gunicorn fork workers); a server without children is its own worker.
    """
    tree = _children()
    descendants, stack = [], list(tree.get(root, []))
    while stack:
        pid = stack.pop()
        descendants.append(pid)
        stack.extend(tree.get(pid, []))
    sizes = {pid: rss_kib(pid) for pid in [root, *descendants]}
    workers = [pid for pid in descendants if not _is_helper(pid)]
    worker = max(workers, key=sizes.__getitem__) if workers else root
    return sizes[worker], sum(sizes.values())
