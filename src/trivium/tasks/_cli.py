"""`trivium worker` and `trivium tasks ...`, contributed by the `Tasks` plugin.

`trivium worker` runs the app's lifespan (database, app-scoped dependencies) and a
worker inside it; SIGTERM or SIGINT stops it gracefully: no new tasks are taken and
running ones get `--grace` seconds to finish.

A broker or Redis that does not answer is reported in one line (`tasks-unreachable`)
naming its address, as `trivium db` reports a database that does not, instead of the
client library's traceback.
"""

from __future__ import annotations

import datetime
import logging
import os
import signal
import sys
from collections.abc import Awaitable
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

import anyio
import click

from trivium.tasks._errors import unreachable

if TYPE_CHECKING:
    from trivium.tasks._state import TaskInfo
    from trivium.tasks._tasks import Tasks

__all__ = ["commands"]


def commands(tasks: Tasks) -> list[click.Command]:
    """Return the commands of `tasks`."""
    return [_worker(tasks), _scheduler(tasks), _group(tasks)]


def _worker(tasks: Tasks) -> click.Command:
    @click.command(name="worker", help="Run the app's background tasks (trivium.tasks).")
    @click.option(
        "--concurrency",
        "-c",
        type=click.IntRange(min=1),
        default=None,
        help="Tasks run at once (default: Tasks(concurrency=...)).",
    )
    @click.option(
        "--queue",
        "-q",
        "queues",
        multiple=True,
        help="A queue to take tasks from (repeat; default: every queue of the app's tasks).",
    )
    @click.option(
        "--grace",
        type=click.FloatRange(min=0),
        default=30.0,
        show_default=True,
        help="Seconds running tasks get to finish after SIGTERM.",
    )
    def worker(concurrency: int | None, queues: tuple[str, ...], grace: float) -> None:
        if tasks.memory:
            raise click.ClickException(
                "the memory broker runs tasks inside the app's process; give Tasks a "
                "Redis URL (Tasks('redis://localhost:6379/0')) to run separate workers"
            )
        app = tasks.app
        if app is None:  # pragma: no cover - cli_commands is asked of installed plugins
            raise click.ClickException("the Tasks plugin is not installed on an app")

        async def main() -> None:
            tasks.in_app_worker = False
            stopping = anyio.Event()
            async with app.lifespan_context(), anyio.create_task_group() as group:
                group.start_soon(_stop_on_signal, stopping)
                click.echo(
                    f"worker: {len(tasks.registry)} task(s), queues "
                    f"{', '.join(queues or tasks.queues)}, concurrency {concurrency or tasks.concurrency}"
                )
                await tasks.work(
                    stopping, concurrency=concurrency, queues=queues or None, grace=grace
                )
                group.cancel_scope.cancel()

        _run(tasks, main)
        _leave_threads()

    return worker


def _leave_threads() -> None:
    """Exit now if sync tasks still run in threads past the grace period.

    A thread cannot be stopped, and Python waits for it at exit: the worker would
    outlive `--grace` by the task's whole run. Their runs are left unacknowledged, and
    another worker takes them over once their lease expires, as for async tasks.
    """
    from trivium.tasks._task import threads_running

    left = threads_running()
    if not left:
        return
    click.echo(f"worker: leaving {left} sync task(s) still running in threads; exiting")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _scheduler(tasks: Tasks) -> click.Command:
    @click.command(
        name="scheduler", help="Enqueue the app's periodic tasks on time (trivium.tasks)."
    )
    def scheduler() -> None:
        if tasks.memory:
            raise click.ClickException(
                "with the memory broker the app schedules its periodic tasks itself; give "
                "Tasks a Redis URL to run a separate scheduler"
            )
        app = tasks.app
        if app is None:  # pragma: no cover - cli_commands is asked of installed plugins
            raise click.ClickException("the Tasks plugin is not installed on an app")
        if not tasks.periodic_tasks:
            raise click.ClickException("the app has no periodic tasks (@tasks.periodic)")

        async def main() -> None:
            from trivium.tasks._schedule import run_scheduler

            tasks.in_app_worker = False
            tasks.in_app_scheduler = False
            stopping = anyio.Event()
            async with app.lifespan_context(), anyio.create_task_group() as group:
                group.start_soon(_stop_on_signal, stopping)
                for periodic in tasks.periodic_tasks:
                    when = (
                        f"every {periodic.every:g} s" if periodic.every else f"cron {periodic.cron}"
                    )
                    click.echo(f"scheduler: {periodic.task.name} {when}")
                await run_scheduler(tasks, stopping)
                group.cancel_scope.cancel()

        _run(tasks, main)

    return scheduler


async def _stop_on_signal(stopping: anyio.Event) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            click.echo("stopping")
            stopping.set()
            return


def _group(tasks: Tasks) -> click.Group:
    @click.group(name="tasks", help="List, retry and cancel task runs (trivium.tasks).")
    def group() -> None:
        if tasks.memory:
            raise click.ClickException(
                "the memory broker keeps task state inside the app's process; give Tasks "
                "a Redis URL to inspect runs from the command line"
            )

    @group.command(name="list")
    @click.option(
        "--state",
        type=click.Choice(["queued", "running", "retrying", "failed", "done", "cancelled"]),
        default=None,
    )
    @click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
    def list_(state: str | None, limit: int) -> None:
        """Print the most recent runs, newest first."""
        for info in _call(tasks, tasks.list(state=state, limit=limit)):
            click.echo(_line(info))

    @group.command(name="show")
    @click.argument("task_id")
    def show(task_id: str) -> None:
        """Print one run, with its arguments and its last error's traceback."""
        info = _call(tasks, tasks.get(task_id))
        if info is None:
            raise click.ClickException(f"no task run {task_id!r}")
        click.echo(_line(info))
        click.echo(f"arguments: {info.kwargs}")
        if info.traceback:
            click.echo(info.traceback.rstrip())

    @group.command(name="retry")
    @click.argument("task_id")
    def retry(task_id: str) -> None:
        """Enqueue a failed or cancelled run again."""
        _call(tasks, tasks.retry(task_id))
        click.echo(f"Task run {task_id} queued again.")

    @group.command(name="cancel")
    @click.argument("task_id")
    def cancel(task_id: str) -> None:
        """Cancel a queued or running run."""
        if _call(tasks, tasks.cancel(task_id)):
            click.echo(f"Task run {task_id} cancelled.")
        else:
            click.echo(
                f"Task run {task_id} was neither queued nor running (done, failed or cancelled)."
            )

    return group


def _call(tasks: Tasks, awaitable: Any) -> Any:
    async def run() -> Any:
        try:
            return await awaitable
        finally:
            await tasks.stop()

    try:
        return _run(tasks, run)
    except (LookupError, ValueError) as exc:
        # The message itself: str() of a KeyError would add quotes around it.
        raise click.ClickException(str(exc.args[0] if exc.args else exc)) from None


def _run(tasks: Tasks, main: Callable[[], Awaitable[Any]]) -> Any:
    """Run `main`; a broker or Redis that does not answer becomes a one-line error."""
    try:
        return anyio.run(main)
    except Exception as exc:
        problem = unreachable(tasks, exc)
        if problem is None:
            raise
        raise click.ClickException(problem.one_line()) from None


def _line(info: TaskInfo) -> str:
    when = datetime.datetime.fromtimestamp(info.enqueued_at, datetime.UTC).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    error = f"  {info.error}" if info.state in ("failed", "retrying") and info.error else ""
    priority = f"  priority={info.priority}" if info.priority else ""
    return (
        f"{info.id}  {info.state:<9}  {when}  {info.name}  attempts={info.attempts}"
        f"{priority}{error}"
    )
