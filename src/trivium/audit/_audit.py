"""`Audit`: the audit trail battery, a plugin bound to one database.

Creating `Audit(db)` attaches two SQLAlchemy session events to `db.session_class`, the
class of every session `db` makes (the per-request `db.depends()` session, its
`sessionmaker`, its autocommit sessions): `after_flush` records unit-of-work writes
(`_flush.py`), `do_orm_execute` records bulk `UPDATE`/`DELETE` statements (`_bulk.py`).
Both write their entries in the transaction of the write. Installed on an app, the
plugin also contributes the request step that tells the entries who is writing
(`_context.py`), the `trivium_audit` table's migration and the `trivium audit` commands.
"""

from __future__ import annotations

import datetime
import weakref
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from sqlalchemy import delete
from sqlalchemy import event
from sqlalchemy import select

from trivium.audit._bulk import record_bulk
from trivium.audit._capture import DEFAULT_UNTRACKED
from trivium.audit._capture import Model
from trivium.audit._capture import Tracker
from trivium.audit._context import AuditStep
from trivium.audit._context import actor as acting
from trivium.audit._flush import load_unknown
from trivium.audit._flush import record_flush
from trivium.audit._models import AuditEntry
from trivium.audit._models import encode_pk
from trivium.audit._revert import changes_sync
from trivium.audit._revert import check_fields
from trivium.audit._revert import life_bounds
from trivium.audit._revert import revert_sync
from trivium.db import Database
from trivium.db import Model as BaseModel
from trivium.db import utcnow
from trivium.errors import ConfigurationError
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import ORMExecuteState
    from sqlalchemy.orm import Session

    from trivium.app import App

__all__ = ["MAX_LOG_PAGE", "Audit"]

MAX_LOG_PAGE = 1000
"""The most entries `Audit.log` returns at once."""
_ACTIVE: weakref.WeakKeyDictionary[Database, Audit] = weakref.WeakKeyDictionary()
"""The live `Audit` of each database."""
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Audit(Plugin):
    """An audit trail of every write made through `db`'s sessions, in the same transaction.

    ```python
    db = Database("postgresql://app@localhost/app")
    audit = Audit(db, retention=timedelta(days=365))
    app = App(plugins=[db, Auth(db, secret_key=...), audit])
    ```

    Args:
        db: the database whose writes are recorded (the `trivium_audit` table lives there).
        models: audit only these mapped classes (and their subclasses); default: all.
        exclude: never audit these mapped classes.
        secret_fields: more field names whose values are redacted (besides
            `DEFAULT_SECRETS` and columns declared with `info={"secret": True}`).
        untracked_fields: field names whose updates are not recorded (they still
            appear in create and delete entries); default `DEFAULT_UNTRACKED`, the
            `last_login` and `last_used_at` bookkeeping of `trivium.auth`. Pass `()` to
            record every update.
        retention: how long entries are kept: `trivium audit purge` (and `purge()`)
            deletes older ones. `None`: kept until purged explicitly.

    Raises:
        ConfigurationError: `retention` is not a positive `timedelta` (`audit-retention`),
            or `models`/`exclude` name something that is not a mapped class (`audit-model`),
            or `secret_fields`/`untracked_fields` is a string (`audit-secret-fields`,
            `audit-untracked-fields`), or `db` already has a live `Audit`
            (`audit-duplicate`).
    """

    install_hint = "app.install(Audit(db))"

    def __init__(  # noqa: PLR0913 - keyword settings of one object, documented above
        self,
        db: Database,
        *,
        models: Collection[type[Any]] | None = None,
        exclude: Collection[type[Any]] = (),
        secret_fields: Collection[str] = (),
        untracked_fields: Collection[str] = DEFAULT_UNTRACKED,
        retention: datetime.timedelta | None = None,
    ) -> None:
        if not isinstance(db, Database):
            raise ConfigurationError(
                f"Audit(db) needs a trivium.db.Database, not {type(db).__name__}", "audit-database"
            )
        if retention is not None and (
            not isinstance(retention, datetime.timedelta) or retention <= datetime.timedelta(0)
        ):
            raise ConfigurationError(
                f"Audit(retention={retention!r}): give a positive datetime.timedelta "
                "(timedelta(days=365)) or None to keep entries until purged",
                "audit-retention",
            )
        for cls in (*(models or ()), *exclude):
            if not (isinstance(cls, type) and hasattr(cls, "__mapper__")):
                raise ConfigurationError(
                    f"Audit(models=/exclude=) takes mapped classes; {cls!r} is not one",
                    "audit-model",
                )
        for option, value in (
            ("secret_fields", secret_fields),
            ("untracked_fields", untracked_fields),
        ):
            if isinstance(value, str):
                raise ConfigurationError(
                    f"Audit({option}=...) takes a collection of field names, not a string",
                    f"audit-{option.replace('_', '-')}",
                )
        self.db = db
        """The audited database."""
        self.retention = retention
        """How long entries are kept (`None`: until purged explicitly)."""
        active = _ACTIVE.get(db)
        if active is not None:
            raise ConfigurationError(
                f"{db!r} already has an Audit; make one per database (or close() the "
                "other first): two would record every write twice",
                "audit-duplicate",
            )
        _ACTIVE[db] = self
        self.tracker = Tracker(models, exclude, secret_fields, untracked_fields)
        self.step = AuditStep()
        event.listen(db.session_class, "before_flush", self._before_flush)
        event.listen(db.session_class, "after_flush", self._after_flush)
        event.listen(db.session_class, "do_orm_execute", self._on_execute)

    def __repr__(self) -> str:
        return f"Audit({self.db!r})"

    def _before_flush(self, session: Session, flush_context: Any, instances: Any) -> None:
        del flush_context, instances
        load_unknown(self.tracker, session)

    def _after_flush(self, session: Session, flush_context: Any) -> None:
        del flush_context
        record_flush(self.tracker, session)

    def _on_execute(self, state: ORMExecuteState) -> Any:
        return record_bulk(self.tracker, state)

    def close(self) -> None:
        """Stop auditing `db` (remove the session events); another `Audit(db)` may follow."""
        if _ACTIVE.get(self.db) is not self:
            return
        del _ACTIVE[self.db]
        event.remove(self.db.session_class, "before_flush", self._before_flush)
        event.remove(self.db.session_class, "after_flush", self._after_flush)
        event.remove(self.db.session_class, "do_orm_execute", self._on_execute)

    # Plugin hooks ---------------------------------------------------------------------

    def on_build(self, app: App) -> None:
        """Install the database too when the app lacks it."""
        if not any(plugin is self.db for plugin in app.plugins):
            app.install(self.db)

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """The step naming the actor, on routes that take the request or have unsafe methods."""
        if route.takes_connection or _UNSAFE.intersection(route.methods):
            return (self.step,)
        return ()

    def migration_folders(self, database: Any) -> Mapping[str, Path]:
        """The `trivium_audit` table's migration (branch `audit`), on the audited database."""
        if database is not self.db:
            return {}
        return {"trivium.audit": Path(__file__).parent / "migrations"}

    def cli_commands(self) -> Sequence[Any]:
        """`trivium audit purge`."""
        from trivium.audit._cli import audit_group

        return [audit_group(self)]

    async def create_table(self) -> None:
        """Create the `trivium_audit` table if it is missing (tests and first steps).

        Real projects create it with `trivium db migrate` (the plugin adds its migration).
        """
        async with self.db.engine.begin() as connection:
            await connection.run_sync(AuditEntry.__table__.create, checkfirst=True)  # type: ignore[attr-defined]

    # Reading --------------------------------------------------------------------------

    def audits(self, model: type[Any]) -> bool:
        """Return whether the writes of `model` (a mapped class) are recorded."""
        return self.tracker.get(model) is not None

    def _tracked(self, model: type[Any]) -> Model:
        """Return how `model` is audited.

        Raises:
            LookupError: `model` is not audited.
        """
        found = self.tracker.get(model)
        if found is None:
            raise LookupError(f"{model.__name__} is not audited")
        return found

    def model_for(self, table: str) -> type[Any] | None:
        """Return the audited mapped class whose table is `table` (an entry's `model`), if any.

        Looks at the classes whose writes were recorded by this process, then at every
        subclass of `trivium.db.Model`.
        """
        seen = self.tracker.seen()
        candidates = [
            *seen,
            *(m.class_ for m in BaseModel.registry.mappers if m.class_ not in seen),
        ]
        for cls in candidates:
            found = self.tracker.get(cls)
            if found is not None and found.table == table:
                return cls
        return None

    async def history(
        self,
        session: AsyncSession,
        model: type[Any],
        pk: Any,
        *,
        limit: int | None = None,
        all_lives: bool = False,
    ) -> list[AuditEntry]:
        """Return the entries of one object, newest first.

        A key can hold several objects in turn (a deleted row's id used again): only the
        entries of the object that has the key now are returned (those after the key's
        last `delete` entry), or, when none has it, those of the last one, its `delete`
        included. A `create` that puts back what a `delete` recorded (reverting it)
        continues that object. These are the entries `revert` accepts.

        Args:
            session: a session on the audited database.
            model: the object's mapped class.
            pk: its primary key (a tuple for a composite key).
            limit: at most this many entries.
            all_lives: return the entries of every object that had the key.
        """
        tracked = self._tracked(model)
        values = tuple(pk) if isinstance(pk, tuple) else (pk,)
        text = encode_pk(values)
        query = (
            select(AuditEntry)
            .where(AuditEntry.model == tracked.table, AuditEntry.object_pk == text)
            .order_by(AuditEntry.id.desc())
        )
        if not all_lives:
            low, high = await session.run_sync(life_bounds, tracked, text)
            if low is not None:
                query = query.where(AuditEntry.id > low)
            if high is not None:
                query = query.where(AuditEntry.id <= high)
        if limit is not None:
            query = query.limit(limit)
        return list((await session.scalars(query)).all())

    async def log(  # noqa: PLR0913 - the log page's filters, all keyword-only
        self,
        session: AsyncSession,
        *,
        model: type[Any] | str | Collection[type[Any] | str] | None = None,
        action: str | None = None,
        actor_id: Any = None,
        request_id: str | None = None,
        since: datetime.datetime | None = None,
        until: datetime.datetime | None = None,
        limit: int = 50,
        before: int | None = None,
    ) -> list[AuditEntry]:
        """Return one page of the whole trail, newest first.

        Pass the last entry's `id` as `before=` to get the next page.

        Args:
            session: a session on the audited database.
            model: only this mapped class's (or table's) entries; or a collection of
                them: only their entries (an empty one: no entries).
            action: only `"create"`, `"update"` or `"delete"` entries.
            actor_id: only the entries of this user (or `actor(name=...)`).
            request_id: only the entries of this request.
            since: only entries made at or after this time.
            until: only entries made before this time.
            limit: the page size, 1 to `MAX_LOG_PAGE`.
            before: only entries whose id is smaller (the cursor of the next page).

        Raises:
            ValueError: `limit` out of range or an unknown `action`.
        """
        if not 1 <= limit <= MAX_LOG_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_LOG_PAGE}, not {limit}")
        if action is not None and action not in ("create", "update", "delete"):
            raise ValueError(f"action must be 'create', 'update' or 'delete', not {action!r}")
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if isinstance(model, str | type):
            query = query.where(AuditEntry.model == self._table(model))
        elif model is not None:
            tables = sorted({self._table(m) for m in model})
            if not tables:
                return []
            query = query.where(AuditEntry.model.in_(tables))
        query = query.where(*_filters(action, actor_id, request_id, since, until, before))
        return list((await session.scalars(query)).all())

    def _table(self, model: type[Any] | str) -> str:
        """Return the table of an audited class, or `model` when it is a table name."""
        return model if isinstance(model, str) else self._tracked(model).table

    # Writing --------------------------------------------------------------------------

    async def revert(
        self,
        session: AsyncSession,
        entry: AuditEntry,
        *,
        to: Literal["after", "before"] = "after",
        actor: Any = None,
        fields: Collection[str] | None = None,
    ) -> Any:
        """Restore the object of `entry` to its state after (or before) that entry.

        The restore is itself written through the ORM, so it is audited (by `actor`
        when given: a user, a user id, or the current actor). A deleted object is
        created again, a created one deleted. Secret fields are not restored. Returns
        the object, or `None` when the restored state is "not there".

        Args:
            session: a session on the audited database.
            entry: the entry whose object is restored.
            to: the state `"after"` the entry, or `"before"` it.
            actor: who the revert's own entries name (default: the current actor).
            fields: restore only these fields (column or many-to-many attribute
                names) of an existing object; the others keep their value now (see
                `revert_changes` for what they would have become). An object created
                again gets all its recorded fields. Default: every field.

        Raises:
            LookupError: the entry's model is not an audited class of this app.
            ValueError: `to` is not `"after"` or `"before"`, or `fields` is a string or
                names something the model lacks, or `entry` is not one `history`
                returns: it is of an earlier object that had the same key (deleted
                since, its key used again), so reverting it would overwrite another.
        """
        tracked = self._for_entry(entry, to)
        only = check_fields(tracked, fields)
        if actor is None:
            return await session.run_sync(revert_sync, tracked, entry, to, only)
        with acting(actor):
            return await session.run_sync(revert_sync, tracked, entry, to, only)

    async def revert_changes(
        self,
        session: AsyncSession,
        entry: AuditEntry,
        *,
        to: Literal["after", "before"] = "after",
    ) -> dict[str, Any] | None:
        """Return what `revert(session, entry, to=to)` would write, writing nothing.

        `{field: value}` (values as the trail records them: JSON data, a many-to-many
        field as the list of related keys) for each field whose value would change
        (every recorded field when the object would be created again), or `None`
        when the revert would delete the object.

        Raises:
            LookupError: the entry's model is not an audited class of this app.
            ValueError: `to` is not `"after"` or `"before"`, or `entry` is of an
                earlier object that had the same key (as `revert`).
        """
        tracked = self._for_entry(entry, to)
        return await session.run_sync(changes_sync, tracked, entry, to)

    def _for_entry(self, entry: AuditEntry, to: str) -> Model:
        """Return how the model of `entry` is audited, after checking `to`."""
        if to not in ("after", "before"):
            raise ValueError(f"to must be 'after' or 'before', not {to!r}")
        cls = self.model_for(entry.model)
        if cls is None:
            raise LookupError(f"no audited model has the table {entry.model!r}")
        return self._tracked(cls)

    async def purge(self, older_than: datetime.timedelta | None = None) -> int:
        """Delete the entries older than `older_than` (default: the retention); return how many.

        Runs in a transaction of its own on the audited database.

        Raises:
            ValueError: no `older_than` and no `retention`, or a non-positive one.
        """
        cutoff = self.cutoff(older_than)
        async with self.db.sessionmaker() as session, session.begin():
            result = await session.execute(delete(AuditEntry).where(AuditEntry.created_at < cutoff))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def count_older(self, older_than: datetime.timedelta | None = None) -> int:
        """Return how many entries `purge(older_than)` would delete."""
        from sqlalchemy import func

        cutoff = self.cutoff(older_than)
        async with self.db.sessionmaker() as session:
            query = (
                select(func.count()).select_from(AuditEntry).where(AuditEntry.created_at < cutoff)
            )
            return int(await session.scalar(query) or 0)

    def cutoff(self, older_than: datetime.timedelta | None = None) -> datetime.datetime:
        """Return the time before which entries are purged.

        Raises:
            ValueError: no `older_than` and no `retention`, or a non-positive one.
        """
        age = older_than if older_than is not None else self.retention
        if age is None:
            raise ValueError("give older_than, or set Audit(retention=...)")
        if age <= datetime.timedelta(0):
            raise ValueError(f"older_than must be positive, not {age}")
        return utcnow() - age


def _filters(  # noqa: PLR0913 - the log's filters, passed on
    action: str | None,
    actor_id: Any,
    request_id: str | None,
    since: datetime.datetime | None,
    until: datetime.datetime | None,
    before: int | None,
) -> list[Any]:
    """Return the conditions of the given `Audit.log` filters."""
    found: list[Any] = []
    if action is not None:
        found.append(AuditEntry.action == action)
    if actor_id is not None:
        found.append(AuditEntry.actor_id == str(actor_id))
    if request_id is not None:
        found.append(AuditEntry.request_id == request_id)
    if since is not None:
        found.append(AuditEntry.created_at >= since)
    if until is not None:
        found.append(AuditEntry.created_at < until)
    if before is not None:
        found.append(AuditEntry.id < before)
    return found
