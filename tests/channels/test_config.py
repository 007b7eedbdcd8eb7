"""Misconfiguration fails at start-up with a stable code; the plugin's seams."""

from __future__ import annotations

from typing import Any

import pytest

from trivium import App
from trivium.channels import Channels
from trivium.channels import ChannelsDep
from trivium.channels import RedisBackend
from trivium.channels import Subscription
from trivium.conf import Settings
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"backend": "postgres://db"}, "channels-backend"),
        ({"backend": object()}, "channels-backend"),
        ({"queue_limit": 0}, "channels-option"),
        ({"queue_limit": True}, "channels-option"),
        ({"heartbeat": -1}, "channels-option"),
        ({"history": {"room:*": 0}}, "channels-option"),
        ({"history": ["room:*"]}, "channels-option"),
        ({"authorize": "yes"}, "channels-option"),
        ({"trusted_origins": ["app.example.com"]}, "channels-option"),
        ({"trusted_origins": ["https://app.example.com/path"]}, "channels-option"),
    ],
)
def test_invalid_options_are_refused_with_a_code(options: dict[str, Any], code: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        Channels(**options)
    assert error.value.code == code


@pytest.mark.parametrize("option", ["timeout", "health_interval", "max_backoff"])
def test_invalid_redis_timings_are_refused(option: str) -> None:
    with pytest.raises(ConfigurationError, match=option) as error:
        RedisBackend("redis://127.0.0.1:6379/0", **{option: 0})
    assert error.value.code == "channels-option"


def test_unknown_options_are_an_error() -> None:
    with pytest.raises(TypeError, match="queue_size"):
        Channels(queue_size=10)  # type: ignore[call-arg]


def test_from_settings_uses_the_redis_url() -> None:
    assert repr(Channels.from_settings(Settings(_env_file=None))) == "Channels(MemoryBackend())"
    on_redis = Channels.from_settings(Settings(_env_file=None, redis_url="redis://r:6379/1"))
    assert isinstance(on_redis.backend, RedisBackend)


def test_the_dependency_without_the_plugin_fails_at_the_first_use() -> None:
    app = App()

    @app.get("/")
    async def home(channels: ChannelsDep) -> None:
        await channels.publish("x", 1)

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 500
    with pytest.raises(ConfigurationError) as error:
        with TestClient(app) as client:
            client.get("/")
    assert error.value.code == "channels-not-installed"


def test_the_plugin_is_found_by_class() -> None:
    channels = Channels()
    app = App(plugins=[channels])
    assert app.plugin(Channels) is channels


@pytest.mark.anyio
async def test_an_outage_while_behind_makes_the_count_unknown() -> None:
    async def nothing(subscription: Subscription, channel: str) -> None:
        pass

    from trivium.channels import Event

    subscription = Subscription(1, nothing, nothing)
    subscription.put(Event("a", b"1"))
    subscription.put(Event("a", b"2"))
    subscription.gap()
    subscription.put(Event("a", b"3"))
    assert (await subscription.get()).data == 1
    resync = await subscription.get()
    assert (resync.kind, resync.dropped) == ("resync", None)
    subscription.gap()
    assert (await subscription.get()).kind == "resync"
    subscription.close()
    with pytest.raises(StopAsyncIteration):
        await subscription.get()


WORKER_SIGNS = ("TRIVIUM_WORKERS", "WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR")


@pytest.mark.parametrize(
    ("name", "value"),
    [("TRIVIUM_WORKERS", "2"), ("WEB_CONCURRENCY", "4"), ("PROMETHEUS_MULTIPROC_DIR", "/tmp/m")],
)
def test_the_memory_backend_warns_at_start_up_when_the_app_runs_in_several_workers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, name: str, value: str
) -> None:
    for sign in WORKER_SIGNS:
        monkeypatch.delenv(sign, raising=False)
    monkeypatch.setenv(name, value)
    with TestClient(App(plugins=[Channels()])):
        pass
    warnings = [r for r in caplog.records if r.name == "trivium.channels"]
    assert len(warnings) == 1
    assert warnings[0].levelname == "WARNING"
    message = warnings[0].getMessage()
    assert "the memory backend serves one process only" in message
    assert name in message
    assert "Set a Redis URL" in message


def test_the_memory_backend_does_not_warn_with_one_worker(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for sign in WORKER_SIGNS:
        monkeypatch.delenv(sign, raising=False)
    monkeypatch.setenv("TRIVIUM_WORKERS", "1")
    with TestClient(App(plugins=[Channels()])):
        pass
    assert not [r for r in caplog.records if r.name == "trivium.channels"]


def test_the_worker_count_trivium_run_declares_wins_over_the_platforms(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for sign in WORKER_SIGNS:
        monkeypatch.delenv(sign, raising=False)
    monkeypatch.setenv("WEB_CONCURRENCY", "4")  # a platform's hint, overridden by --workers 1
    monkeypatch.setenv("TRIVIUM_WORKERS", "1")
    with TestClient(App(plugins=[Channels()])):
        pass
    assert not [r for r in caplog.records if r.name == "trivium.channels"]
