"""The relay of the transactional outbox: what moves committed outbox rows to the broker.

`Outbox.add` writes a run to the session's transaction (the model is in `_outbox.py`,
imported only with the `db` extra). The session class's `after_commit` event starts
the relay of that transaction's rows; `after_rollback` forgets them. `Outbox.sweep`,
run by every app process and worker, relays rows whose relay was interrupted.

SQLAlchemy fires both events for savepoints (`session.begin_nested()`) too, so each id
is remembered with the savepoint it was written in: releasing a savepoint hands its ids
to the enclosing one (nothing is committed yet), rolling one back forgets only its own,
and only the outermost transaction's commit relays.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import anyio
import orjson

from trivium.errors import ConfigurationError
from trivium.tasks._outage import Outage
from trivium.tasks._outage import is_outage

if TYPE_CHECKING:
    from trivium.tasks._state import StateStore
    from trivium.tasks._state import TaskInfo
    from trivium.tasks._tasks import Tasks

__all__ = ["SWEEP_EVERY", "Outbox", "relay_due"]

logger = logging.getLogger("trivium.tasks")

_OUTBOX_KEY = "trivium.tasks.outbox"

SWEEP_EVERY = 5.0
"""Seconds between sweeps; a sweep relays rows older than this."""

_SAY_MISSING_EVERY = 600.0  # seconds between the sweep's lines about a missing table


class Outbox:
    """The outbox of a `Tasks`: rows written in transactions, relayed after commit."""

    def __init__(self, tasks: Tasks) -> None:
        self.tasks = tasks
        self.background: set[asyncio.Task[Any]] = set()
        """Relays started after commits and not finished yet."""
        self.sweeping = False
        """Whether a sweep runs in this process."""
        self.table_found = False
        """Whether the outbox's table was seen (it is looked for until then)."""
        self._missing_said_at: float | None = None
        self._relaying = Outage("relaying the task outbox")

    def listen(self, db: Any) -> None:
        """Watch the commits and rollbacks of `db`'s sessions (once)."""
        from sqlalchemy import event

        if not event.contains(db.session_class, "after_commit", self.after_commit):
            event.listen(db.session_class, "after_commit", self.after_commit)
            event.listen(db.session_class, "after_rollback", self.after_rollback)

    def add(self, session: Any, message: dict[str, Any]) -> None:
        """Write `message` to the outbox in `session`'s transaction.

        Raises:
            ConfigurationError: see `check`.
        """
        from trivium.tasks._outbox import entry

        sync_session = self.check(session)
        session.add(entry(message, orjson.dumps(message)))
        # With the savepoint it belongs to (`None`: the outermost transaction).
        written = (message["id"], sync_session.get_nested_transaction())
        sync_session.info.setdefault(_OUTBOX_KEY, []).append(written)

    async def ready(self, session: Any) -> None:
        """Check that the outbox can write in `session` and that its table exists.

        The table is looked for until it is found once.

        Raises:
            ConfigurationError: see `check`; or the table is missing (`tasks-no-database`).
        """
        from trivium.tasks._outbox import MISSING_TABLE
        from trivium.tasks._outbox import has_table

        self.check(session)
        if not self.table_found:
            # On the session's connection: a pool of one has no other to lend.
            if not await has_table(await session.connection()):
                raise ConfigurationError(MISSING_TABLE, "tasks-no-database")
            self.table_found = True

    def check(self, session: Any) -> Any:
        """Return the sync session of `session` if the outbox can write in it.

        Raises:
            ConfigurationError: no outbox database (`tasks-no-database`) or a session
                of another database (`tasks-foreign-session`).
        """
        tasks = self.tasks
        if tasks.app is not None:
            tasks.bind_database(tasks.app)
        if tasks.db is None:
            raise ConfigurationError(
                "task.options(session=...) needs the outbox's database: install a Database "
                "on the app or give Tasks(db=...)",
                "tasks-no-database",
            )
        sync_session = getattr(session, "sync_session", session)
        if not isinstance(sync_session, tasks.db.session_class):
            raise ConfigurationError(
                f"task.options(session=...) takes a session of the outbox's database ({tasks.db!r})",
                "tasks-foreign-session",
            )
        return sync_session

    def after_commit(self, sync_session: Any) -> None:
        """Start relaying the rows the committed transaction wrote.

        With `Tasks(eager=True)` the rows are relayed and their runs run before the
        commit returns (the event fires inside SQLAlchemy's greenlet, which can await).
        A savepoint's release commits nothing: its rows pass to the enclosing transaction.
        """
        written = sync_session.info.get(_OUTBOX_KEY)
        if not written:
            return  # most commits: nothing enqueued, no more work
        savepoint = sync_session.get_nested_transaction()  # the one released, if any
        if savepoint is not None:
            enclosing = _enclosing(savepoint)
            sync_session.info[_OUTBOX_KEY] = [
                (task_id, enclosing if owner is savepoint else owner) for task_id, owner in written
            ]
            return
        ids = [task_id for task_id, _ in sync_session.info.pop(_OUTBOX_KEY)]
        if self.tasks.eager:
            from sqlalchemy.exc import MissingGreenlet
            from sqlalchemy.util import await_only

            try:
                await_only(self.run_inline(ids))
            except MissingGreenlet:
                pass  # a commit outside SQLAlchemy's asyncio: relayed in the background
            else:
                return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: the sweep relays them
        job = loop.create_task(self.relay(ids))
        self.background.add(job)
        job.add_done_callback(self.background.discard)

    def after_rollback(self, sync_session: Any) -> None:
        """Forget the rows of the rolled-back transaction or savepoint (they never existed)."""
        written = sync_session.info.get(_OUTBOX_KEY)
        if not written:
            return
        savepoint = sync_session.get_nested_transaction()  # the one rolled back, if any
        if savepoint is None:
            del sync_session.info[_OUTBOX_KEY]
            return
        sync_session.info[_OUTBOX_KEY] = [
            (task_id, owner) for task_id, owner in written if not _within(owner, savepoint)
        ]

    async def relay(self, ids: Sequence[str] | None = None, older_than: float = 0.0) -> int:
        """Send committed rows (those of `ids`, or all older than `older_than` s)."""
        from sqlalchemy import delete
        from sqlalchemy import select

        from trivium.tasks._outbox import OutboxEntry

        db = self.tasks.db
        if db is None:
            return 0
        query = select(OutboxEntry).order_by(OutboxEntry.created_at).limit(100)
        if ids is not None:
            query = query.where(OutboxEntry.id.in_(list(ids)))
        else:
            cutoff = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=older_than)
            query = query.where(OutboxEntry.created_at <= cutoff)
        query = query.with_for_update(skip_locked=True)
        try:
            async with db.sessionmaker() as session, session.begin():
                rows = (await session.scalars(query)).all()
                for row in rows:
                    await self.tasks.dispatch(orjson.loads(row.message), relayed=True)
                if rows:
                    await session.execute(
                        delete(OutboxEntry).where(OutboxEntry.id.in_([row.id for row in rows]))
                    )
        except Exception as exc:
            if is_outage(exc):  # the database or the broker: one line until it ends
                self._relaying.failed(
                    "relaying the task outbox failed, the sweep will try again: %s: %s",
                    type(exc).__name__,
                    exc,
                )
            elif not await self._say_missing_table():
                logger.exception("relaying the task outbox failed; the sweep will try again")
            return 0
        if self._relaying.down_since is not None:
            self._relaying.recovered()
        return len(rows)

    async def _say_missing_table(self) -> bool:
        """Return whether the outbox's table is missing, said in one line every 10 minutes.

        An app that never uses the outbox still sweeps it: a traceback every sweep
        would bury its logs.
        """
        from trivium.tasks._outbox import MISSING_TABLE
        from trivium.tasks._outbox import has_table

        try:
            async with self.tasks.db.engine.connect() as connection:
                if await has_table(connection):
                    return False
        except Exception:  # noqa: BLE001 - the database is down: the relay's error says so
            return False
        now = time.monotonic()
        if self._missing_said_at is None or now - self._missing_said_at >= _SAY_MISSING_EVERY:
            self._missing_said_at = now
            logger.warning("the task outbox is not relayed: %s", MISSING_TABLE)
        return True

    async def run_inline(self, ids: Sequence[str]) -> None:
        """Take committed rows `ids` out of the outbox, then run them (eager mode).

        The rows are deleted in a transaction of their own, closed before the runs
        start: a run writing to the database (SQLite above all) must not wait for it.
        """
        from sqlalchemy import delete
        from sqlalchemy import select

        from trivium.tasks._outbox import OutboxEntry

        db = self.tasks.db
        if db is None:  # pragma: no cover - rows are only written with a database
            return
        async with db.sessionmaker() as session, session.begin():
            rows = (
                await session.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(list(ids))))
            ).all()
            messages = [orjson.loads(row.message) for row in rows]
            if rows:
                await session.execute(delete(OutboxEntry).where(OutboxEntry.id.in_(list(ids))))
        messages.sort(key=lambda message: list(ids).index(message["id"]))
        for message in messages:
            await self.tasks.dispatch(message, relayed=True)

    async def sweep(self, stopping: anyio.Event) -> None:
        """Relay rows older than `SWEEP_EVERY` every `SWEEP_EVERY` s until `stopping`."""
        self.sweeping = True
        try:
            while not stopping.is_set():
                with anyio.move_on_after(SWEEP_EVERY):
                    await stopping.wait()
                if not stopping.is_set():
                    await self.relay(older_than=SWEEP_EVERY)
        finally:
            self.sweeping = False


async def relay_due(store: StateStore, info: TaskInfo) -> bool:
    """Record relayed run `info` unless recorded; whether its message is to be sent.

    A row is relayed again when its relay sent it but could not delete it (a crash, the
    database or the broker failing in between). A run still `queued` is sent again (the
    first send may have failed; a worker drops the second delivery of a finished run);
    one that started (running, retrying or finished) is not: it would run again.
    """
    current = await store.create(info)  # one round trip: only writes a missing record
    if current is None or current.state == "queued":
        return True
    logger.info(
        "outbox row of task %s (%s) relayed again, its run is %s: not sent again",
        info.name,
        info.id,
        current.state,
    )
    return False


def _enclosing(transaction: Any) -> Any:
    """Return the savepoint enclosing `transaction`, `None` for the outermost transaction."""
    parent = transaction.parent
    while parent is not None and not parent.nested:
        parent = parent.parent  # a subtransaction (a flush's): not a savepoint
    return parent


def _within(owner: Any, savepoint: Any) -> bool:
    """Whether savepoint `owner` (`None`: the outermost transaction) is or is in `savepoint`.

    Savepoints inside a rolled-back one are closed without an event of their own.
    """
    while owner is not None:
        if owner is savepoint:
            return True
        owner = owner.parent
    return False
