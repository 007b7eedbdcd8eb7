"""Refuse to start a server on a port another process listens on, naming that process.

Granian binds with `SO_REUSEPORT`, so without this check a second `trivium run` on a
busy port would start, and the kernel would split connections between the two servers.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from trivium.errors import ConfigurationError

__all__ = ["check_port_free", "port_holder"]


def check_port_free(host: str, port: int) -> None:
    """Refuse to start on a port another server listens on.

    Granian binds with `SO_REUSEPORT`, so a second server on a busy port would start and
    the kernel would split the connections between the two: requests would reach old
    code at random instead of failing loudly.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigurationError(
            f"host={host!r} is not an address this machine can bind ({exc.strerror}).",
            code="server.invalid-option",
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return  # e.g. a privileged port: let the server report it
            holder = port_holder(port)
            raise ConfigurationError(
                f"port {port} on {host} is already in use"
                f"{f' by {holder}' if holder else ' (another server is running?)'}; stop it "
                "or choose another port with --port.",
                code="server.port-in-use",
            ) from None


def port_holder(port: int) -> str | None:
    """Name the process listening on TCP `port` ("process 1234 (python3)"), on Linux.

    Best effort, from /proc: the listening socket's inode in /proc/net/tcp(6), then the
    process whose file descriptors include it. `None` when it cannot tell (another OS,
    or a process of another user).
    """
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rpartition(":")[2], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{inode}]")
    if not inodes:
        return None
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            descriptors = list((process / "fd").iterdir())
        except OSError:
            continue  # gone, or another user's
        if any(_link(fd) in inodes for fd in descriptors):
            try:
                name = (process / "comm").read_text().strip()
            except OSError:
                name = "?"
            return f"process {process.name} ({name})"
    return None


def _link(path: Path) -> str:
    try:
        return str(path.readlink())
    except OSError:
        return ""
