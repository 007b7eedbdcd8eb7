"""The errors of `trivium.tasks`, and how a broker that does not answer is reported.

A broker (or the state's Redis) that does not answer is a `ConfigurationError`
(`tasks-unreachable`, one line naming the host) at start-up and on the command line,
and a `ServiceUnavailable` (503 with `Retry-After`) when a request enqueues a run.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING

from trivium.errors import ConfigurationError
from trivium.errors import ServiceUnavailable
from trivium.errors import TriviumError

if TYPE_CHECKING:
    from trivium.tasks._state import TaskInfo
    from trivium.tasks._tasks import Tasks

__all__ = ["RETRY_AFTER", "TaskFailedError", "broker_down", "unreachable", "unreachable_at_start"]

RETRY_AFTER = 5
"""Seconds a client is asked to wait (`Retry-After`) when the broker does not answer."""


class TaskFailedError(TriviumError):
    """A run waited for with `TaskRun.result()` failed or was cancelled."""

    def __init__(self, info: TaskInfo) -> None:
        super().__init__(f"task {info.name} ({info.id}) {info.state}: {info.error or ''}")
        self.info = info
        """The run's final state (its `error` and `traceback`)."""


@contextlib.contextmanager
def broker_down(tasks: Tasks, action: str = "enqueueing a task") -> Iterator[None]:
    """Turn a broker or state Redis that does not answer into a 503 with `Retry-After`.

    `action` says what failed in the log line (`enqueueing a task`, `reading a task's state`).
    The line is written once per outage, without a traceback, and its end once too.

    Raises:
        ServiceUnavailable: the client's error (kept in `__cause__`) says it is unreachable.
    """
    outage = tasks._broker_outage
    try:
        yield
    except ServiceUnavailable:
        raise
    except Exception as exc:
        problem = unreachable(tasks, exc)
        if problem is None:
            raise
        # One line per outage, naming the host (not for clients); the end is logged too.
        outage.failed("%s failed, answering 503 until it works again: %s", action, problem.message)
        raise ServiceUnavailable("the task broker is unreachable", retry_after=RETRY_AFTER) from exc
    if outage.down_since is not None:
        outage.recovered()


@contextlib.contextmanager
def unreachable_at_start(tasks: Tasks) -> Iterator[None]:
    """Turn a broker that does not answer into a one-line `tasks-unreachable` error.

    Raises:
        ConfigurationError: the client's error (kept in `__cause__`) says it is unreachable.
    """
    try:
        yield
    except Exception as exc:
        problem = unreachable(tasks, exc)
        if problem is None:
            raise
        raise problem from exc


_PORTS = {"redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671}


def unreachable(tasks: Tasks, exc: BaseException) -> ConfigurationError | None:
    """Explain in one line that the broker or the state's Redis did not answer, or `None`.

    The client's error is looked for on the exception's cause chain and in exception
    groups (a task group's), as `trivium db` does for databases.
    """
    from redis.exceptions import AuthenticationError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    found = _causes(exc)
    redis_url = getattr(tasks.transport, "redis_url", tasks.broker)  # RabbitMQ: state=
    role = "the task state, Tasks(state=...)" if redis_url != tasks.broker else "the task broker"
    if any(isinstance(error, AuthenticationError) for error in found):
        return ConfigurationError(
            f"the Redis server at {_where(redis_url)} (for {role}) refused the login; check "
            "the user and password in the URL",
            "tasks-unreachable",
        )
    if any(isinstance(error, (RedisConnectionError, RedisTimeoutError)) for error in found):
        return ConfigurationError(
            f"no Redis server answers at {_where(redis_url)} (for {role}); start it, or fix "
            "the host and port in the URL",
            "tasks-unreachable",
        )
    if tasks.broker.startswith("amqp") and any(_amqp_down(error) for error in found):
        return ConfigurationError(
            f"no RabbitMQ server answers at {_where(tasks.broker)} (for the task broker); "
            "start it, or fix the host, port, user and password in the URL",
            "tasks-unreachable",
        )
    return None


def _amqp_down(error: BaseException) -> bool:
    """Return whether `error` is aio-pika's (or aiormq's) word for a lost RabbitMQ.

    A connection that drops while the app runs surfaces as a closed channel, or as a
    bare `RuntimeError` raised inside aio-pika's reconnecting connection.
    """
    from aiormq.exceptions import AMQPConnectionError
    from aiormq.exceptions import ChannelInvalidStateError

    if isinstance(error, (OSError, TimeoutError, AMQPConnectionError, ChannelInvalidStateError)):
        return True
    if type(error) is not RuntimeError or error.__traceback__ is None:
        return False
    frame = error.__traceback__
    while frame.tb_next is not None:  # where it was raised: the innermost frame
        frame = frame.tb_next
    module: str = frame.tb_frame.f_globals.get("__name__", "")
    return module.startswith("aio_pika.")


def _causes(exc: BaseException) -> list[BaseException]:
    """Return `exc`, its causes and contexts, and those of grouped exceptions."""
    found: list[BaseException] = []
    waiting = [exc]
    while waiting and len(found) < 50:
        error = waiting.pop()
        if any(error is seen for seen in found):
            continue
        found.append(error)
        if isinstance(error, BaseExceptionGroup):
            waiting.extend(error.exceptions)
        waiting.extend(cause for cause in (error.__cause__, error.__context__) if cause)
    return found


def _where(url: str) -> str:
    """Return the host and port of `url` (a socket's path for `unix://`), never its password."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{parts.port or _PORTS.get(parts.scheme, 0)}"
