"""`trivium channels publish/members`, contributed by the plugin, against a real app module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from click.testing import Result
from tests.channels.conftest import drop_keys
from tests.channels.conftest import new_prefix
from tests.channels.conftest import redis_url

from trivium.channels import Channels
from trivium.channels import RedisBackend
from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

APP_SOURCE = """
from trivium import App
from trivium.channels import Channels, RedisBackend

app = App(plugins=[Channels(RedisBackend({url!r}, prefix={prefix!r}), history={{"news": 10}})])
"""


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, str]]:
    monkeypatch.syspath_prepend(str(tmp_path))
    url, prefix = redis_url(), new_prefix()
    name = f"channelsapp_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(APP_SOURCE.format(url=url, prefix=prefix))
    yield f"{name}:app", url, prefix
    drop_keys(url, prefix)


def run(app: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["channels", *args], env={"TRIVIUM_APP": app})


def test_publish_reaches_a_running_process_and_members_lists_presence(
    target: tuple[str, str, str],
) -> None:
    app, url, prefix = target
    worker = Channels(RedisBackend(url, prefix=prefix), history={"news": 10})
    outputs: list[Result] = []

    async def scenario() -> list[object]:
        async with worker.running(), worker.subscribe("news") as subscription:
            async with worker.join("news", {"name": "ada"}):
                outputs.append(await anyio.to_thread.run_sync(run, app, "members", "news"))
                outputs.append(
                    await anyio.to_thread.run_sync(run, app, "publish", "news", '{"v": 1}')
                )
                with anyio.fail_after(5):
                    events = [await subscription.get() for _ in range(2)]
        return [(e.kind, e.data) for e in events]

    events = anyio.run(scenario)
    members, published = outputs
    assert members.exit_code == 0, members.output
    assert members.output == '{"name":"ada"}\n'
    assert published.exit_code == 0, published.output
    assert published.output.startswith("Published to news as ")
    assert events == [("join", {"name": "ada"}), ("message", {"v": 1})]


def test_bad_data_and_channel_names_are_usage_errors(target: tuple[str, str, str]) -> None:
    app, _, _ = target
    bad_json = run(app, "publish", "news", "{oops")
    assert bad_json.exit_code == 2
    assert "not JSON" in bad_json.output
    bad_name = run(app, "publish", "has space", "1")
    assert bad_name.exit_code == 2
    assert "channel names are 1-200 printable" in bad_name.output


def test_an_unreachable_redis_is_exit_status_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"channelsdown_{uuid.uuid4().hex[:8]}"
    source = APP_SOURCE.format(url="redis://127.0.0.1:1/0", prefix="down:")
    (tmp_path / f"{name}.py").write_text(source)
    result = run(f"{name}:app", "publish", "news", "1")
    assert result.exit_code == 1
    assert "the channels backend (Redis) is unreachable" in result.output
