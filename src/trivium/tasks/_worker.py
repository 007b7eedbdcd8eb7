"""Running tasks: the worker loop and the execution of one message.

A worker takes at most `concurrency` messages at a time from its queues, runs each
(dependencies injected, timeout applied), records its state and acknowledges it. A
failed attempt that its task's `Retry` allows is sent again, delayed by the backoff,
before the failed message is acknowledged. While a task runs on a transport with
leases, its lease is renewed every third of the lease; a run that was cancelled
(`Tasks.cancel`), or retried since as a newer generation, is stopped at that moment.
A message of an older generation than its run's record is dropped unrun.

Shutdown is graceful: once asked to stop, the worker takes no new messages and gives
the running ones `grace` seconds to finish; any still running then are abandoned
unacknowledged, and another worker takes them over when their lease expires.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import anyio
import orjson

from trivium.tasks._outage import Outage
from trivium.tasks._outage import is_outage
from trivium.tasks._state import HeldElsewhereError
from trivium.tasks._state import TaskInfo
from trivium.tasks._task import non_finite
from trivium.tasks._transport import MemoryTransport

if TYPE_CHECKING:
    from trivium.tasks._task import Task
    from trivium.tasks._tasks import Tasks
    from trivium.tasks._transport import Delivery

__all__ = ["Worker", "execute", "message_info"]

logger = logging.getLogger("trivium.tasks")

REDACTED = "[redacted]"


async def execute(
    tasks: Tasks,
    message: dict[str, Any],
    scope: anyio.CancelScope | None,
    done: Callable[[], Awaitable[None]] | None = None,
    hold: float | None = None,
) -> float | None:
    """Run one attempt of `message`; return the wait before its retry, or `None`.

    The state record is updated before and after; the retry itself is the caller's.
    `done`, if given, is awaited with the final record's write when the run succeeds
    (the caller's acknowledgement). With `hold`, the attempt is held in the state store
    while it runs, and a second message of it raises `HeldElsewhereError` (see `begin`).
    """
    store = tasks.store
    info = message_info(tasks, message)
    info.attempts = message["attempt"]
    info.started_at = time.time()
    info.state = "running"
    task = tasks.registry.get(message["task"])
    if task is None:
        _finish(info, "failed", error=f"LookupError: no task named {message['task']!r}")
        await store.put(info)
        return None
    current = await store.begin(info, hold)
    if current is not None:  # a duplicate or stale delivery: not run
        await _not_run(tasks, info, current)
        return None
    try:
        with anyio.CancelScope() as cancel:
            if scope is not None:
                tasks.running[info.id] = cancel
            result = await _attempt(tasks, task, message)
        if cancel.cancelled_caught:
            current = await store.get(info.id)
            if current is None or current.generation <= info.generation:
                _finish(info, "cancelled", error="cancelled while running")
                await store.put(info)
            return None  # else a retry took the run over: its record stays
        info.result = _kept(task, result) if task.keep_result else None
    except _UnstorableResultError as exc:  # the same every attempt: failed, not retried
        _finish(info, "failed", error=f"TypeError: {exc}", trace=traceback.format_exc())
        await store.put(info)
        logger.error("task %s (%s) failed: %s", info.name, info.id, info.error)
        return None
    except Exception as exc:  # noqa: BLE001 - recorded; retried or failed
        return await _failed(tasks, task, info, exc)
    except BaseException as exc:
        # `sys.exit()` or a `KeyboardInterrupt` raised by the task body fails this run
        # only (as in Celery): let it stop the worker and its message would kill the
        # next one. Cancellation (a timeout, a cancel, the worker's shutdown) goes on.
        if _is_cancellation(exc):
            raise
        return await _failed(tasks, task, info, exc)
    finally:
        if tasks.running.get(info.id) is cancel:  # not another delivery's of this id
            del tasks.running[info.id]
    _finish(info, "done")
    if done is None:
        await store.put(info)
    else:  # the record and the acknowledgement are independent: one round trip for both
        await asyncio.gather(store.put(info), done())
    return None


async def _not_run(tasks: Tasks, info: TaskInfo, current: TaskInfo) -> None:
    """Close the record of a run cancelled while an attempt ran, whose worker died."""
    if (
        current.state == "cancelled"
        and current.finished_at is None
        and current.generation == info.generation
    ):
        current.finished_at = time.time()  # none runs now
        await tasks.store.put(current)


async def _failed(
    tasks: Tasks, task: Task[Any, Any], info: TaskInfo, exc: BaseException
) -> float | None:
    """Record failed attempt `info` as retrying (returning the wait) or failed."""
    info.error = f"{type(exc).__name__}: {_text(exc)}"
    info.traceback = traceback.format_exc()
    try:
        wait = task.retry.wait(info.attempts) if task.retry.retries(info.attempts, exc) else None
    except Exception:  # a broken policy must not leave the run `running` for ever
        logger.exception("task %s (%s): its retry policy raised; the run fails", info.name, info.id)
        wait = None
    if wait is not None:
        info.state = "retrying"
        # Eager mode (`Tasks.run_inline`) runs the next attempt at once, without the wait.
        info.eta = None if tasks.eager else time.time() + wait
        await tasks.store.put(info)
        when = "at once (eager mode)" if tasks.eager else f"in {wait:.1f} s"
        logger.warning("task %s (%s) failed, retrying %s: %s", info.name, info.id, when, info.error)
        return wait
    _finish(info, "failed", error=info.error, trace=info.traceback)
    await tasks.store.put(info)
    logger.error("task %s (%s) failed: %s", info.name, info.id, info.error)
    return None


def _is_cancellation(exc: BaseException) -> bool:
    """Return whether `exc` is (or a group of it holds) the event loop's cancellation."""
    cancelled = anyio.get_cancelled_exc_class()
    if isinstance(exc, BaseExceptionGroup):
        return exc.subgroup(lambda error: isinstance(error, cancelled)) is not None
    return isinstance(exc, (cancelled, GeneratorExit))


def _text(exc: BaseException) -> str:
    """Return `str(exc)`, or a placeholder when its `__str__` raises."""
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not leave the run `running`
        return f"<{type(exc).__qualname__}.__str__ raised>"


class _UnstorableResultError(TypeError):
    """A `keep_result` task returned a value that cannot be kept as JSON."""


async def _attempt(tasks: Tasks, task: Task[Any, Any], message: dict[str, Any]) -> Any:
    """Run the task once, within its timeout; a late attempt raises a `TimeoutError`."""
    if task.timeout is None:
        return await task.invoke(tasks.app, message["kwargs"])
    with anyio.move_on_after(task.timeout):
        return await task.invoke(tasks.app, message["kwargs"])
    # Only the deadline's own cancellation ends the block without a return or a raise.
    raise TimeoutError(f"attempt exceeded the task's timeout of {task.timeout:g} s")


def _kept(task: Task[Any, Any], value: Any) -> Any:
    """Return `value` as JSON values, for the run's record.

    Raises:
        _UnstorableResultError: it (or something in it) cannot be turned into JSON.
    """
    try:
        if non_finite(_default(value)):
            raise ValueError("NaN and infinity have no JSON form")  # orjson writes null
        return orjson.loads(orjson.dumps(value, default=_default))
    except (TypeError, ValueError) as exc:
        cause = exc.__cause__ or exc
        raise _UnstorableResultError(
            f"task {task.name} returned a value of type {type(value).__qualname__!r}, which "
            f"keep_result=True cannot store as JSON ({cause}); return JSON values (dict, "
            "list, str, numbers, ...), dataclasses or pydantic models"
        ) from exc


def _default(value: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)


def _finish(
    info: TaskInfo, state: Any, *, error: str | None = None, trace: str | None = None
) -> None:
    info.state = state
    info.finished_at = time.time()
    if error is not None:
        info.error = error
    if trace is not None:
        info.traceback = trace


def message_info(tasks: Tasks, message: dict[str, Any]) -> TaskInfo:
    """Return the `queued` record of a message (its redacted arguments hidden)."""
    task = tasks.registry.get(message["task"])
    hidden = task.redact if task is not None else frozenset()
    return TaskInfo(
        id=message["id"],
        name=message["task"],
        state="queued",
        queue=message["queue"],
        kwargs={k: REDACTED if k in hidden else v for k, v in message["kwargs"].items()},
        enqueued_at=message.get("enqueued_at", time.time()),
        key=message.get("key"),
        max_attempts=message.get("max_attempts", 1),
        priority=message.get("priority", 0),
        generation=message.get("generation", 0),
    )


class Worker:
    """Takes messages from `queues` and runs up to `concurrency` of them at once.

    With `every_queue` (the in-app worker of the memory broker, the only one that can
    run its messages) it takes them from every queue a run was sent to.
    """

    def __init__(
        self,
        tasks: Tasks,
        *,
        concurrency: int,
        queues: Sequence[str],
        every_queue: bool = False,
    ) -> None:
        self.tasks = tasks
        self.concurrency = concurrency
        self.queues = list(queues)
        self.every_queue = every_queue
        self.active = 0
        self._freed = anyio.Event()
        self.idle = anyio.Event()
        self.idle.set()
        self._receiving = Outage("receiving tasks")
        self.leased: dict[Delivery, TaskInfo] = {}
        """The running deliveries with their run (its id, generation and attempt).

        Keyed by delivery: two deliveries of one run (a stale one among them) each
        keep their lease.
        """

    async def run(self, stopping: anyio.Event, grace: float = 30.0) -> None:
        """Work until `stopping` is set, then let running tasks finish (up to `grace` s)."""
        transport = self.tasks.transport
        async with anyio.create_task_group() as group:
            if transport.lease is not None:
                group.start_soon(self._keep_leases)
            while not stopping.is_set():
                free = self.concurrency - self.active
                if free <= 0:
                    self._freed = anyio.Event()
                    with anyio.move_on_after(1):
                        await self._freed.wait()
                    continue
                try:
                    if self.every_queue and isinstance(transport, MemoryTransport):
                        deliveries = await transport.receive_any(free, wait=0.5)
                    else:
                        deliveries = await transport.receive(self.queues, free, wait=0.5)
                except Exception as exc:  # noqa: BLE001 - logged: a traceback if unexpected
                    self._receive_failed(exc)
                    await anyio.sleep(1)
                    continue
                if self._receiving.down_since is not None:
                    self._receiving.recovered()
                for delivery in deliveries:
                    self.active += 1
                    self.idle = anyio.Event()
                    group.start_soon(self._handle, delivery)
            with anyio.move_on_after(grace):
                await self.idle.wait()
            group.cancel_scope.cancel()

    def _receive_failed(self, error: Exception) -> None:
        """Log a failed poll: an outage once until it ends, any other error each time."""
        if not is_outage(error):
            logger.error("receiving tasks failed; trying again in 1 s", exc_info=error)
            return
        self._receiving.failed(
            "receiving tasks failed, trying again every second: %s: %s",
            type(error).__name__,
            error,
        )

    async def _handle(self, delivery: Delivery) -> None:
        tasks = self.tasks
        transport = tasks.transport
        acked = False
        task_id = ""

        async def ack() -> None:
            nonlocal acked
            await transport.ack(delivery)
            acked = True

        try:
            try:
                message = orjson.loads(delivery.data)
                task_id = message["id"]
            except (orjson.JSONDecodeError, TypeError, KeyError):
                logger.error(
                    "dropping a task message that is not trivium's: %r", delivery.data[:200]
                )
                await transport.ack(delivery)  # never deliverable: do not loop on it
                return
            held = message_info(tasks, message)
            held.attempts = message["attempt"]
            self.leased[delivery] = held
            # Where an unacknowledged message comes back after its lease (Redis), a second
            # message of one attempt (an outbox row relayed twice) waits for it instead of
            # running beside it: left unacknowledged, it is dropped once the run is over.
            hold = transport.lease if transport.reclaims else None
            with anyio.CancelScope() as scope:
                try:
                    wait = await execute(tasks, message, scope, ack, hold)
                except HeldElsewhereError:
                    logger.info("task %s: this attempt runs on another worker", task_id)
                    return
            if wait is not None:
                retried = {**message, "attempt": message["attempt"] + 1}
                await transport.send(
                    message["queue"],
                    orjson.dumps(retried),
                    time.time() + wait,
                    message.get("priority", 0),
                )
            if not acked:
                await transport.ack(delivery)
        except Exception as exc:
            if not is_outage(exc):
                logger.exception("handling a task message failed; it will be delivered again")
            else:  # the outage has its own line: this one needs no traceback
                logger.warning(
                    "handling a task message failed; it will be delivered again: %s: %s",
                    type(exc).__name__,
                    exc,
                )
        finally:
            self.leased.pop(delivery, None)
            self.active -= 1
            self._freed.set()
            if self.active == 0:
                self.idle.set()

    async def _keep_leases(self) -> None:
        """Renew the lease of every running message each third of the lease (one loop)."""
        transport = self.tasks.transport
        lease = transport.lease or 30.0
        while True:
            await anyio.sleep(lease / 3)
            for delivery, held in list(self.leased.items()):
                task_id = held.id
                try:
                    if transport.reclaims:  # the hold first: it must never outlive the lease
                        await self.tasks.store.hold(held, lease)
                    await transport.extend(delivery)
                    info = await self.tasks.store.get(task_id)
                except Exception:
                    logger.warning("renewing the lease of task %s failed", task_id, exc_info=True)
                    continue
                if info is not None and (
                    info.state == "cancelled" or info.generation > held.generation
                ):
                    scope = self.tasks.running.get(task_id)
                    if scope is not None:
                        scope.cancel()
