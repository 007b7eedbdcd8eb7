"""Suite-wide test switches.

Passwords are hashed with the cheap test hasher (`TRIVIUM_PASSWORD_HASHER=fast-for-tests`,
set here before trivium.auth is imported, and inherited by the servers tests start), as
Django suites use a fast hasher: the default Argon2id costs ~100 ms of CPU per hash.
tests/auth/test_passwords.py checks the real default in a fresh interpreter.

`TRIVIUM_TEST_INTERFACE=rsgi` reruns the suite with every trivium app driven through its
RSGI entry point (see `trivium.testing`). Tests marked `asgi_only` check something RSGI
cannot carry (a `root_path`, websocket close reasons, subprotocols) and are skipped there.

A test module whose tests drive no app through trivium's test clients (ORM queries,
migrations, the CLI's parsing) proves nothing more the second time: it says so with
`pytestmark = pytest.mark.drives_no_app` and the RSGI pass leaves it out. The mark
checks itself: a marked test that builds a test client over an app fails, naming the
mark to remove. `TRIVIUM_TEST_APPS_REPORT=<file>` writes, per test module, whether it
drove an app and its tests' seconds (JSON), to find the modules to mark.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

RSGI = os.environ.get("TRIVIUM_TEST_INTERFACE", "asgi").lower() == "rsgi"
os.environ.setdefault("TRIVIUM_PASSWORD_HASHER", "fast-for-tests")

from trivium.testing import _client  # noqa: E402 - after the hasher is chosen

DRIVES_NO_APP = "drives_no_app"
# Taken out of the environment: a pytest run a test starts in a folder of this checkout
# (FastAPI's tutorial tests) must not overwrite the report.
_REPORT = os.environ.pop("TRIVIUM_TEST_APPS_REPORT", "")
_running: pytest.Item | None = None
_modules: dict[str, dict[str, Any]] = {}  # for TRIVIUM_TEST_APPS_REPORT
_served_app = _client.served_app


def _watched_served_app(app: Any) -> Any:
    """`served_app`, noting that the running test drives an app through a test client."""
    item = _running
    if item is not None and hasattr(app, "__rsgi__"):
        if item.get_closest_marker(DRIVES_NO_APP) is not None:
            raise AssertionError(
                f"{item.nodeid} is marked {DRIVES_NO_APP} but drives an app through a test "
                "client: remove the mark, so that the RSGI pass runs it"
            )
        _module(item)["drives_app"] = True
    return _served_app(app)


_client.served_app = _watched_served_app


def _module_path(item: pytest.Item) -> str:
    return Path(item.path).relative_to(Path(__file__).parent).as_posix()


def _module(item: pytest.Item) -> dict[str, Any]:
    return _modules.setdefault(_module_path(item), {"drives_app": False, "seconds": 0.0})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """Note which test runs, for `_watched_served_app`."""
    global _running
    _running = item
    try:
        return (yield)
    finally:
        _running = None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add the phase's seconds to its module's."""
    if _running is not None:
        _module(_running)["seconds"] += report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write TRIVIUM_TEST_APPS_REPORT, if asked for."""
    if _REPORT:
        Path(_REPORT).write_text(json.dumps(_modules, indent=1, sort_keys=True))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the RSGI pass, skip the tests marked `asgi_only`."""
    if not RSGI:
        return
    for item in items:
        marker = item.get_closest_marker("asgi_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else "needs the ASGI interface"
            item.add_marker(pytest.mark.skip(reason=f"RSGI run: {reason}"))
