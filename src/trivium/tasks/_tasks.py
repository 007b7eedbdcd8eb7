"""`Tasks`: the plugin that registers tasks, sends their runs and runs a worker.

The broker URL picks the transport: `memory://` (the default) keeps queues in the app's
process, where the app runs an in-process worker during its lifespan; `redis://...`
uses Redis Streams, shared by every process, with `trivium worker` processes running
the tasks; `amqp://...` uses RabbitMQ queues (with `state=` a Redis for the run state
and delayed runs). `eager=True` runs each enqueued task inline, before `enqueue` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import sys
import time
import uuid
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import ParamSpec
from typing import TypeVar
from typing import overload

import anyio
import orjson

from trivium.errors import ConfigurationError
from trivium.plugins import Plugin
from trivium.tasks._control import cancel
from trivium.tasks._control import retry
from trivium.tasks._errors import broker_down
from trivium.tasks._errors import unreachable_at_start
from trivium.tasks._outage import Outage
from trivium.tasks._relay import Outbox
from trivium.tasks._relay import relay_due
from trivium.tasks._retry import Retry
from trivium.tasks._retry import retry_policy
from trivium.tasks._state import LazyRedisStore
from trivium.tasks._state import MemoryStateStore
from trivium.tasks._state import StateStore
from trivium.tasks._state import TaskInfo
from trivium.tasks._state import send_recorded
from trivium.tasks._state import unsend
from trivium.tasks._task import Task
from trivium.tasks._task import TaskRun
from trivium.tasks._transport import MemoryTransport
from trivium.tasks._transport import Transport
from trivium.tasks._transport import transport_for
from trivium.tasks._worker import Worker
from trivium.tasks._worker import execute
from trivium.tasks._worker import message_info

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.tasks._schedule import Periodic

__all__ = ["Tasks"]

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger("trivium.tasks")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _seconds(value: object, least: float) -> bool:
    """Whether `value` is a finite number of seconds, at least `least` (above it for 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and (value > 0 if least == 0 else value >= least)


class Tasks(Plugin):
    """Background tasks: `@tasks.task` functions, sent to a broker and run by workers.

    ```python
    tasks = Tasks()  # in memory; Tasks("redis://localhost:6379/0") in production
    app = App(plugins=[tasks])


    @tasks.task(retry=Retry(max_attempts=5), timeout=30)
    async def send_welcome(user_id: int, session: Session) -> None: ...


    await send_welcome.enqueue(user.id)
    ```

    Args:
        broker: `"memory://"`, a Redis URL (`redis://`, `rediss://`) or a RabbitMQ one
            (`amqp://`, `amqps://`: give `state=` too).
        eager: run every enqueued task inline, in `enqueue` (tests); a run enqueued
            with `options(session=...)` runs inside the commit of that session.
        db: the `Database` whose outbox table `options(session=...)` writes to
            (default: the app's only database).
        concurrency: tasks the in-app worker (memory broker) runs at once.
        lease: seconds a worker holds a Redis message without renewing it; a worker
            killed mid-task loses its tasks to other workers after this long (at least 0.1).
        keep: seconds the state of finished runs (and idempotency keys) is kept.
        prefix: the prefix of the Redis keys.
        in_app_worker: run a worker inside the app's process during its lifespan
            (default: with the memory broker only).
        state: with a RabbitMQ broker, the Redis URL that keeps the runs' state and
            the delayed runs (required there, refused with other brokers).
    """

    install_hint = "app.install(Tasks()) (from trivium.tasks import Tasks)"

    def __init__(  # noqa: PLR0913 - keyword settings of one object, documented above
        self,
        broker: str = "memory://",
        *,
        eager: bool = False,
        db: Any = None,
        concurrency: int = 10,
        lease: float = 30.0,
        keep: float = 7 * 86400.0,
        prefix: str = "trivium:tasks",
        in_app_worker: bool | None = None,
        state: str | None = None,
    ) -> None:
        scheme = broker.partition("://")[0]
        if not _whole(concurrency) or not _seconds(lease, 0.1) or not _seconds(keep, 0):
            # A lease of a few milliseconds lets Redis hand a running task to another
            # worker before its first renewal: the task would run twice.
            raise ConfigurationError(
                f"Tasks(concurrency={concurrency!r}, lease={lease!r}, keep={keep!r}): "
                "concurrency is a whole number >= 1, lease a number of seconds >= 0.1, keep "
                "a number of seconds > 0",
                "tasks-options",
            )
        self.broker = broker
        """The broker URL."""
        self.eager = eager
        """Whether enqueued tasks run inline."""
        self.db = db
        """The database of the outbox (set when the app is built if not given)."""
        self.concurrency = concurrency
        self.keep = keep
        self.prefix = prefix
        self.memory = scheme == "memory"
        self.in_app_worker = self.memory if in_app_worker is None else in_app_worker
        self.transport: Transport = transport_for(broker, prefix, lease, state)
        self.store: StateStore = MemoryStateStore(keep) if self.memory else LazyRedisStore(self)
        self.registry: dict[str, Task[Any, Any]] = {}
        """The registered tasks by name."""
        self.running: dict[str, anyio.CancelScope] = {}
        self.periodic_tasks: list[Periodic] = []
        """The periodic tasks, in registration order."""
        self.in_app_scheduler = self.memory
        self.app: App | None = None
        self._started = False
        self._starting: asyncio.Lock | None = None
        self.outbox = Outbox(self)
        """The outbox (runs enqueued with `options(session=...)`) and its relay."""
        self._broker_outage = Outage("the task broker")  # met by requests: logged once
        self._worker: Worker | None = None

    def __repr__(self) -> str:
        return f"Tasks({self.broker!r})"

    # Registering ------------------------------------------------------------------

    @overload
    def task(self, func: Callable[P, R], /) -> Task[P, R]: ...

    @overload
    def task(
        self,
        *,
        name: str | None = None,
        queue: str = "default",
        retry: Retry | int | None = None,
        timeout: float | None = None,
        keep_result: bool = False,
        redact: Sequence[str] = (),
        priority: int = 0,
    ) -> Callable[[Callable[P, R]], Task[P, R]]: ...

    def task(  # type: ignore[misc]  # noqa: PLR0913 - the task options, keyword-only
        self,
        func: Callable[..., Any] | None = None,
        /,
        *,
        name: str | None = None,
        queue: str = "default",
        retry: Retry | int | None = None,
        timeout: float | None = None,
        keep_result: bool = False,
        redact: Sequence[str] = (),
        priority: int = 0,
    ) -> Any:
        """Register a function (async, or sync: run in a thread) as a task.

        Args:
            func: the function (when used as `@tasks.task` without options).
            name: the name workers know it by (default `module.qualname`).
            queue: the queue its runs go to (workers take from the queues they are given).
            retry: a `Retry` policy, or a number of attempts (`Retry(max_attempts=n)`).
            timeout: seconds an attempt may take; a longer one fails (and may be retried).
                A sync task's thread cannot be stopped: it runs on, its result ignored.
            keep_result: keep the return value (JSON) in the run's state.
            redact: arguments (secrets: tokens, links with tokens) that the run's state
                shows as `[redacted]`; they travel only in the queued message, and such
                a run cannot be retried by id once failed.
            priority: its runs' priority, from 0 (the default, lowest) to 9 (highest): a
                worker with several runs waiting takes the highest priority first.

        Raises:
            ConfigurationError: a bad option (`tasks-options`, `tasks-priority`, ...).
        """
        policy = retry_policy(retry)
        if timeout is not None and not _seconds(timeout, 0):  # NaN and infinity too
            raise ConfigurationError(
                f"task timeout={timeout!r}: give a finite number of seconds > 0", "tasks-options"
            )

        def register(function: Callable[..., Any]) -> Task[Any, Any]:
            task: Task[Any, Any] = Task(
                self,
                function,
                name=name,
                queue=queue,
                retry=policy,
                timeout=timeout,
                keep_result=keep_result,
                redact=tuple(redact),
                priority=priority,
            )
            if task.name in self.registry:
                raise ConfigurationError(
                    f"two tasks are named {task.name!r}; give one of them name=...",
                    "tasks-duplicate-name",
                )
            self.registry[task.name] = task
            return task

        return register if func is None else register(func)

    def periodic(  # noqa: PLR0913 - the schedule and the task options, keyword-only
        self,
        *,
        every: float | None = None,
        cron: str | None = None,
        name: str | None = None,
        queue: str = "default",
        retry: Retry | int | None = None,
        timeout: float | None = None,
        priority: int = 0,
    ) -> Callable[[Callable[[], R]], Task[[], R]]:
        """Register a task that a scheduler enqueues every `every` seconds or by `cron`.

        The function takes no arguments besides its dependencies. `every` firings are
        aligned on the Unix epoch (`every=3600`: on the hour); `cron` is a five-field
        expression in UTC (`"0 3 * * *"`: at 03:00). Run `trivium scheduler` (Redis), or
        nothing more with the memory broker: the app schedules while it runs.

        Raises:
            ConfigurationError: no schedule, both, or an invalid one (`tasks-schedule`),
                or the function takes arguments (`tasks-periodic-arguments`).
        """
        from trivium.tasks._schedule import Periodic
        from trivium.tasks._schedule import check_schedule

        def register(function: Callable[[], R]) -> Task[[], R]:
            task_name = name or f"{function.__module__}.{function.__qualname__}"
            expression = check_schedule(task_name, every, cron)
            task = self.task(
                name=name, queue=queue, retry=retry, timeout=timeout, priority=priority
            )(function)
            if len(task.signature.parameters):
                del self.registry[task.name]
                raise ConfigurationError(
                    f"periodic task {task.name} takes arguments "
                    f"({', '.join(task.signature.parameters)}); it can only take dependencies",
                    "tasks-periodic-arguments",
                )
            self.periodic_tasks.append(Periodic(task, every, expression))
            return task

        return register

    @property
    def queues(self) -> list[str]:
        """The queues of the registered tasks."""
        return sorted({task.queue for task in self.registry.values()} | {"default"})

    # Plugin hooks -----------------------------------------------------------------

    def setup(self, app: App) -> None:
        """Remember the app whose dependencies tasks are given.

        With the `db` battery in use, the outbox's model joins `Model.metadata` here, so
        `db.create_all()` creates its table as the migrations do.
        """
        self.app = app
        if self.db is not None or "trivium.db" in sys.modules:
            import trivium.tasks._outbox  # noqa: F401 - registers the model

    def after_build(self, app: App) -> None:
        """Find the outbox's database and watch its commits; add the admin's Tasks page.

        After every `on_build`: an `Auth` or `Audit` installs the database there.
        """
        self.bind_database(app)
        if "trivium.admin" in sys.modules:
            from trivium.admin import Admin
            from trivium.tasks._admin import admin_page

            for admin in app.plugins_of(Admin):
                if not any(page.path == "/tasks" for page in admin.pages):
                    admin.add_page(admin_page(self))

    def bind_database(self, app: App) -> None:
        """Take the app's only database as the outbox's unless given; watch its commits."""
        if self.db is None and "trivium.db" in sys.modules:
            from trivium.db import Database

            databases = app.plugins_of(Database)
            if len(databases) == 1:
                self.db = databases[0]
        if self.db is not None:
            self.outbox.listen(self.db)

    def migration_folders(self, database: Any) -> Mapping[str, Path]:
        """The outbox table's migration (branch `tasks`), on the outbox's database."""
        if self.db is None or database is not self.db:
            return {}
        return {"trivium.tasks": Path(__file__).parent / "migrations"}

    def lifespan(self, app: App) -> contextlib.AbstractAsyncContextManager[None]:
        """Connect; with `in_app_worker`, run a worker; relay leftover outbox rows."""
        return self._lifespan()

    @contextlib.asynccontextmanager
    async def _lifespan(self) -> AsyncIterator[None]:
        with unreachable_at_start(self):  # one line naming the broker, not a traceback
            await self.start()
        stopping = anyio.Event()
        try:
            async with anyio.create_task_group() as group:
                if self.db is not None:
                    group.start_soon(self.outbox.sweep, stopping)
                if self.in_app_worker and not self.eager:
                    self._worker = Worker(
                        self, concurrency=self.concurrency, queues=self.queues, every_queue=True
                    )
                    group.start_soon(self._worker.run, stopping)
                if self.in_app_scheduler and self.periodic_tasks:
                    from trivium.tasks._schedule import run_scheduler

                    group.start_soon(run_scheduler, self, stopping)
                try:
                    yield None
                finally:
                    stopping.set()
        finally:
            self._worker = None
            await self.stop()

    def template_directories(self) -> Sequence[Path]:
        """The admin page's template."""
        return (Path(__file__).parent / "templates",)

    def cli_commands(self) -> Sequence[Any]:
        """`trivium worker`, `trivium scheduler` and `trivium tasks list/show/retry/cancel`."""
        from trivium.tasks._cli import commands

        return commands(self)

    # Lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Connect to the broker and the state store (done by the lifespan, or on first use)."""
        if self._started:
            return
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if not self._started:
                await self.transport.start(self.queues)
                await self.store.start()
                self._started = True

    async def stop(self) -> None:
        """Disconnect (after waiting for outbox relays under way)."""
        if self.outbox.background:
            await asyncio.gather(*self.outbox.background, return_exceptions=True)
        if self._started:
            self._started = False
            self._starting = None
            await self.store.stop()
            await self.transport.stop()

    async def work(
        self,
        stopping: anyio.Event,
        *,
        concurrency: int | None = None,
        queues: Sequence[str] | None = None,
        grace: float = 30.0,
    ) -> None:
        """Run a worker until `stopping` is set (what `trivium worker` does)."""
        await self.start()
        worker = Worker(
            self, concurrency=concurrency or self.concurrency, queues=queues or self.queues
        )
        async with anyio.create_task_group() as group:
            if self.db is not None and not self.outbox.sweeping:  # the lifespan sweeps already
                group.start_soon(self.outbox.sweep, stopping)
            await worker.run(stopping, grace)
            group.cancel_scope.cancel()

    async def drain(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - a wait bound
        """Wait until the in-app worker has run every queued task (tests, memory broker).

        Delayed runs that are not due yet are not waited for.
        """
        with anyio.fail_after(timeout):
            while self.outbox.background:
                await asyncio.gather(*self.outbox.background, return_exceptions=True)
            transport = self.transport
            while True:
                queued = isinstance(transport, MemoryTransport) and any(transport.queues.values())
                busy = self._worker is not None and self._worker.active > 0
                if not queued and not busy:
                    return
                await anyio.sleep(0.01)

    # Sending ----------------------------------------------------------------------

    async def send(  # noqa: PLR0913 - the enqueue options, keyword-only
        self,
        task: Task[Any, Any],
        kwargs: dict[str, Any],
        *,
        eta: float | None = None,
        key: str | None = None,
        session: Any = None,
        queue: str | None = None,
        priority: int | None = None,
    ) -> TaskRun:
        """Send a run of `task` (what `task.enqueue` and `task.options(...).enqueue` call)."""
        message: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "task": task.name,
            "kwargs": kwargs,
            "attempt": 1,
            "max_attempts": task.retry.max_attempts,
            "queue": queue or task.queue,
            "key": key,
            "eta": eta,
            "enqueued_at": time.time(),
            "priority": task.priority if priority is None else priority,
        }
        if session is not None:
            await self.outbox.ready(session)
            if key is not None:
                # A key already taken names its run now: no row, the first run's handle.
                # A key taken between this look and the relay drops the relayed run there.
                if not self._started:
                    await self.start()
                holder = await self.store.key_holder(key)
                if holder is not None:
                    return TaskRun(self, holder)
            self.outbox.add(session, message)
            return TaskRun(self, str(message["id"]))
        with broker_down(self):  # a 503 with Retry-After in a request
            return TaskRun(self, await self.dispatch(message))

    async def dispatch(self, message: dict[str, Any], *, relayed: bool = False) -> str:
        """Record and send a message (or run it, eager); return the id that holds its key.

        A `relayed` outbox row is sent only if its run has no record or a `queued` one: a
        row relayed again once its run started (a crash before the row's delete) is not.
        """
        if not self._started:
            await self.start()
        # Encoded first: a message that cannot be sent must not claim its key.
        data = orjson.dumps(message)
        if message["key"] is not None:
            holder = await self.store.claim_key(message["key"], message["id"])
            if holder != message["id"]:
                return holder
        info = message_info(self, message)
        info.eta = message["eta"]
        if relayed and not await relay_due(self.store, info):
            return str(message["id"])
        record = [] if relayed else [self.store.put(info)]  # relayed: recorded just now
        if self.eager:
            try:
                await asyncio.gather(*record)
            except Exception:
                # Nothing ran: free the key, or a retry with it would name a run that never
                # existed and nothing would ever run.
                await unsend(self.store, message)
                raise
            await self.run_inline(message)
        else:  # two round trips at once: the record and the message are independent
            sent = self.transport.send(
                message["queue"],
                data,
                message["eta"],
                message.get("priority", 0),  # a message from before priorities: 0
            )
            await send_recorded(self.store, message, record, sent, undo=not relayed)
        return str(message["id"])

    async def run_inline(self, message: dict[str, Any]) -> None:
        """Run `message` in this coroutine, attempt after attempt (eager mode)."""
        while await execute(self, message, None) is not None:
            message = {**message, "attempt": message["attempt"] + 1}

    async def relay(self, ids: Sequence[str] | None = None, older_than: float = 0.0) -> int:
        """Send committed outbox rows (those of `ids`, or all older than `older_than` s).

        Returns how many were sent. Rows are locked while relayed (`SKIP LOCKED`), so
        processes sweeping at once share them out.
        """
        return await self.outbox.relay(ids, older_than)

    # State ------------------------------------------------------------------------

    async def get(self, task_id: str) -> TaskInfo | None:
        """Return the state of run `task_id` (`None`: unknown, expired or not committed).

        Raises:
            ServiceUnavailable: the state's store does not answer (a 503 in a request).
        """
        with broker_down(self, "reading a task's state"):
            if not self._started:
                await self.start()
            return await self.store.get(task_id)

    async def list(self, *, state: str | None = None, limit: int = 50) -> list[TaskInfo]:
        """Return the most recent runs, newest first, optionally those in one `state`.

        Raises:
            ServiceUnavailable: the state's store does not answer (a 503 in a request).
        """
        with broker_down(self, "listing tasks"):
            if not self._started:
                await self.start()
            found = await self.store.list(limit if state is None else max(limit * 20, 1000))
        if state is not None:
            found = [info for info in found if info.state == state][:limit]
        return found

    async def retry(self, task_id: str) -> TaskRun:
        """Enqueue a failed or cancelled run again, with the same id and arguments.

        The run is sent as a new generation: a message of the cancelled one still
        queued is dropped when a worker takes it, so the retried run runs once.

        Raises:
            LookupError: no run has this id.
            ValueError: the run is not finished unsuccessfully, or it was cancelled
                while running and its attempt has not stopped yet.
            ServiceUnavailable: the broker or the state's store does not answer.
        """
        with broker_down(self, "retrying a task"):
            return await retry(self, task_id)

    async def cancel(self, task_id: str) -> bool:
        """Cancel a run: a queued one never runs, a running one is stopped.

        A running task is stopped at its next await (at once in this process, within a
        third of the lease on another worker). Returns `False` if it had finished.

        Raises:
            LookupError: no run has this id.
            ServiceUnavailable: the broker or the state's store does not answer.
        """
        with broker_down(self, "cancelling a task"):
            return await cancel(self, task_id)
