"""Suite-wide test switches.

Passwords are hashed with the cheap test hasher (`TRIVIUM_PASSWORD_HASHER=fast-for-tests`,
set here before trivium.auth is imported, and inherited by the servers tests start), as
Django suites use a fast hasher: the default Argon2id costs ~100 ms of CPU per hash.
tests/auth/test_passwords.py checks the real default in a fresh interpreter.

`TRIVIUM_TEST_INTERFACE=rsgi` reruns the suite with every trivium app driven through its
RSGI entry point (see `trivium.testing`). Tests marked `asgi_only` check something RSGI
cannot carry (a `root_path`, websocket close reasons, subprotocols) and are skipped there.
"""

from __future__ import annotations

import os

import pytest

RSGI = os.environ.get("TRIVIUM_TEST_INTERFACE", "asgi").lower() == "rsgi"
os.environ.setdefault("TRIVIUM_PASSWORD_HASHER", "fast-for-tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not RSGI:
        return
    for item in items:
        marker = item.get_closest_marker("asgi_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else "needs the ASGI interface"
            item.add_marker(pytest.mark.skip(reason=f"RSGI run: {reason}"))
