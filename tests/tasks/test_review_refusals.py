"""Sends that fail after a key was claimed: the key is freed, the caller gets a 503.

RabbitMQ refusing a message (a full queue under a `reject-publish` policy) answers 503
like an outage, and an eager run whose record could not be written frees its key.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
from tests.faults import FaultProxy
from tests.faults import fault_proxy
from tests.tasks.conftest import clean_redis

from trivium import App
from trivium.errors import ServiceUnavailable
from trivium.tasks import Tasks
from trivium.testing import AsyncTestClient

pytestmark = pytest.mark.anyio


@pytest.fixture
def redis_proxy(redis_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(redis_url) as running:
        yield running


async def test_eager_run_whose_record_failed_frees_its_key(
    redis_proxy: FaultProxy, redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = Tasks(redis_proxy.url, prefix=prefix, eager=True)
    App(plugins=[tasks])
    ran: list[str] = []

    @tasks.task
    async def charge(order: str) -> None:
        ran.append(order)

    key = f"charge-{uuid.uuid4().hex[:8]}"
    await tasks.start()
    put = tasks.store.put

    async def put_while_redis_drops(info: Any) -> None:
        redis_proxy.cut()  # the key is claimed; the record's write meets a lost Redis
        try:
            await put(info)
        finally:
            redis_proxy.restore()

    try:
        monkeypatch.setattr(tasks.store, "put", put_while_redis_drops)
        with pytest.raises(ServiceUnavailable):
            await charge.options(key=key).enqueue("o1")
        monkeypatch.undo()
        assert ran == []
        run = await charge.options(key=key).enqueue("o1")  # the caller's retry, same key
        assert ran == ["o1"]
        info = await tasks.get(run.id)
        assert info is not None
        assert info.state == "done"
    finally:
        await tasks.stop()
        await clean_redis(redis_url, prefix)


@pytest.fixture
def rabbitmq_url() -> str:
    url = os.environ.get("TRIVIUM_TEST_RABBITMQ_URL", "")
    if not url:
        pytest.skip("needs TRIVIUM_TEST_RABBITMQ_URL (amqp://guest:guest@127.0.0.1:5672/)")
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("needs rabbitmqctl (the RabbitMQ server on this machine) to set a policy")
    return url


@pytest.fixture
def full_queues(prefix: str) -> Iterator[Callable[[], None]]:
    """A RabbitMQ policy refusing every message to this test's queues; calling lifts it."""
    name = f"trivium-test-{uuid.uuid4().hex[:8]}"
    policy = '{"max-length": 0, "overflow": "reject-publish"}'
    pattern = f"^{re.escape(prefix)}\\."
    command = ["rabbitmqctl", "-q", "set_policy", "--apply-to", "queues", name, pattern, policy]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - our arguments
    lifted = False

    def lift() -> None:
        nonlocal lifted
        if not lifted:
            clear = ["rabbitmqctl", "-q", "clear_policy", name]
            subprocess.run(clear, check=True, capture_output=True)  # noqa: S603 - ours
            lifted = True

    try:
        yield lift
    finally:
        lift()


async def test_a_message_rabbitmq_refuses_answers_503_and_frees_the_key(
    rabbitmq_url: str, redis_url: str, prefix: str, full_queues: Callable[[], None]
) -> None:
    import aio_pika

    tasks = Tasks(rabbitmq_url, state=redis_url, prefix=prefix, in_app_worker=False)
    app = App(plugins=[tasks])

    @tasks.task
    async def charge(order: str) -> None: ...

    @app.post("/charge/{order}")
    async def endpoint(order: str) -> dict[str, str]:
        run = await charge.options(key=f"{prefix}-{order}").enqueue(order)
        return {"id": run.id}

    try:
        async with AsyncTestClient(app) as client:
            answer = await client.post("/charge/o1")
            assert answer.status_code == 503
            assert answer.headers["retry-after"] == "5"
            assert "did not accept the task" in answer.json()["detail"]
            assert await tasks.list() == []  # no record of a run that was never sent
            full_queues()
            again = await client.post("/charge/o1")  # the client's retry, same key
            assert again.status_code == 200
            info = await tasks.get(again.json()["id"])
            assert info is not None
            assert info.state == "queued"
    finally:
        await tasks.stop()
        connection = await aio_pika.connect(rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(f"{prefix}.default")
        await clean_redis(redis_url, prefix)
