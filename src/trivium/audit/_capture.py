"""What is audited and how values are written down: models, secret fields, JSON values.

`Tracker` decides, once per mapped class, whether its writes are audited and which of
its fields are secrets, and turns Python values into JSON (`jsonable`) and back
(`python_value`, for `Audit.revert`). `Pending` gathers the entries of one flush or one
bulk statement and writes them with one `INSERT` (an executemany) on the session's
connection, inside the transaction of the write itself.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import uuid
from collections.abc import Collection
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError
from sqlalchemy import Float
from sqlalchemy import Numeric
from sqlalchemy import insert
from sqlalchemy import inspect

from trivium.audit._context import current_actor
from trivium.audit._models import REDACTED
from trivium.audit._models import AuditEntry
from trivium.audit._models import encode_pk
from trivium.db import utcnow

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy.engine import Dialect
    from sqlalchemy.orm import Mapper
    from sqlalchemy.orm import RelationshipProperty
    from sqlalchemy.orm import Session

__all__ = [
    "DEFAULT_SECRETS",
    "DEFAULT_UNTRACKED",
    "Model",
    "Pending",
    "Tracker",
    "jsonable",
    "python_value",
    "stored_value",
]

DEFAULT_SECRETS = frozenset(
    {
        "api_key",
        "client_secret",
        "key_hash",
        "otp_secret",
        "passwd",
        "password",
        "password_hash",
        "secret",
        "token_hash",
    }
)
"""Field names whose values are always redacted (on top of `Audit(secret_fields=...)` and
columns declared with `info={"secret": True}`)."""


DEFAULT_UNTRACKED = frozenset({"last_login", "last_used_at"})
"""Fields whose updates are not recorded by default (`Audit(untracked_fields=...)`): the
bookkeeping `trivium.auth` writes on every login and every API-token request."""


def jsonable(value: Any) -> Any:
    """Return `value` as JSON data: dates in ISO 8601, UUIDs and decimals as text, bytes in base64."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else str(value)
        )
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def _scale(kind: Numeric[Any], dialect: Dialect) -> int | None:
    """Return the digits after the point a server keeps for `kind` (`None`: as given)."""
    if kind.scale is not None:
        return kind.scale
    if kind.precision is not None or dialect.name in ("mysql", "mariadb"):
        return 0  # NUMERIC(p) is NUMERIC(p, 0); MySQL's bare DECIMAL is DECIMAL(10, 0)
    return None


def stored_value(column: Column[Any], value: Any, dialect: Dialect) -> Any:
    """Return `value` as `column` holds it once written, as a read returns it.

    Only exact decimals (`Numeric`) are converted: a server with a decimal type
    (PostgreSQL, MySQL, MariaDB) rounds to the column's scale, half away from zero;
    SQLite has none, so SQLAlchemy binds a float and reads it back formatted to the
    scale, and the value goes through the column type's own bind and result processors.
    """
    kind = column.type
    if (
        not isinstance(kind, Numeric)
        or isinstance(kind, Float)
        or not kind.asdecimal
        or isinstance(value, bool)
        or not isinstance(value, int | float | decimal.Decimal)
    ):
        return value
    try:
        if dialect.name == "sqlite":
            impl = kind.dialect_impl(dialect)
            bind = impl.bind_processor(dialect)
            read = impl.result_processor(dialect, None)
            sent = bind(value) if bind is not None else value
            return read(sent) if read is not None else sent
        scale = _scale(kind, dialect)
        if scale is None:
            return value
        number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
        return number.quantize(decimal.Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_UP)
    except (ArithmeticError, TypeError, ValueError):
        return value  # not finite, or beyond the column: the write itself fails


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def python_value(column: Column[Any], value: Any) -> Any:
    """Return the JSON `value` recorded for `column` as the column's Python value (for revert)."""
    if value is None:
        return None
    try:
        kind: type[Any] = column.type.python_type
    except NotImplementedError:
        return value
    if kind is bytes and isinstance(value, str):
        return base64.b64decode(value)
    if kind in (dict, list) or isinstance(value, kind):
        return value
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return value


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Model:
    """How one audited mapped class is recorded."""

    table: str
    """The table name entries carry in `model`."""
    mapper: Mapper[Any]
    pk_keys: tuple[str, ...]
    """Attribute keys of the primary key columns."""
    columns: dict[str, Column[Any]]
    """Audited column attributes by key."""
    secret: frozenset[str]
    """Keys whose values are redacted."""
    untracked: frozenset[str]
    """Keys whose updates are not recorded (they still appear in create and delete entries)."""
    links: tuple[RelationshipProperty[Any], ...]
    """Many-to-many relationships (with a `secondary` table)."""

    def pk(self, values: dict[str, Any]) -> str:
        """Return the text primary key of an object from its values by key."""
        return encode_pk(tuple(values.get(key) for key in self.pk_keys))

    def value(self, key: str, value: Any, dialect: Dialect | None = None) -> Any:
        """Return a field's value as recorded: JSON data, or `REDACTED` for a secret.

        With the `dialect` written to, the value is first made what the database stores
        (`stored_value`), not the value sent.
        """
        if key in self.secret and value is not None:
            return REDACTED
        column = self.columns.get(key)
        if dialect is not None and column is not None and value is not None:
            value = stored_value(column, value, dialect)
        return jsonable(value)


class Tracker:
    """Decide which mapped classes are audited and how (cached per class)."""

    def __init__(
        self,
        include: Collection[type[Any]] | None,
        exclude: Collection[type[Any]],
        secret_fields: Collection[str],
        untracked_fields: Collection[str] = DEFAULT_UNTRACKED,
    ) -> None:
        self.include = frozenset(include) if include is not None else None
        self.exclude = frozenset(exclude)
        self.secret_names = DEFAULT_SECRETS | frozenset(secret_fields)
        self.untracked_names = frozenset(untracked_fields)
        self._models: dict[type[Any], Model | None] = {}

    def get(self, cls: type[Any]) -> Model | None:
        """Return how `cls` is audited, or `None` when it is not."""
        try:
            return self._models[cls]
        except KeyError:
            found = self._models[cls] = self._build(cls)
            return found

    def seen(self) -> list[type[Any]]:
        """Return the audited classes looked at so far."""
        return [cls for cls, model in list(self._models.items()) if model is not None]

    def _audited(self, cls: type[Any]) -> bool:
        if cls is AuditEntry or any(cls is c or issubclass(cls, c) for c in self.exclude):
            return False
        return self.include is None or any(issubclass(cls, c) for c in self.include)

    def _build(self, cls: type[Any]) -> Model | None:
        if not self._audited(cls):
            return None
        mapper: Mapper[Any] = inspect(cls)
        columns: dict[str, Column[Any]] = {}
        secret: set[str] = set()
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            if column.info.get("audit") is False:
                continue
            columns[prop.key] = column  # type: ignore[assignment]
            if column.info.get("secret") or prop.key in self.secret_names:
                secret.add(prop.key)
        pk_keys = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
        links = tuple(r for r in mapper.relationships if r.secondary is not None and not r.viewonly)
        table = mapper.local_table.name  # type: ignore[attr-defined]
        untracked = frozenset(columns) & self.untracked_names
        return Model(table, mapper, pk_keys, columns, frozenset(secret), untracked, links)


@dataclasses.dataclass(slots=True)
class Pending:
    """The entries of one flush or bulk statement, written together by `write`."""

    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def add(self, action: str, model: Model, pk: str, changes: dict[str, list[Any]]) -> None:
        """Add an entry (its actor and time are set by `write`)."""
        self.rows.append(
            {"action": action, "model": model.table, "object_pk": pk, "changes": changes}
        )

    def extend(self, entries: Iterable[tuple[str, Model, str, dict[str, list[Any]]]]) -> None:
        """Add several entries."""
        for entry in entries:
            self.add(*entry)

    def write(self, session: Session) -> None:
        """Insert the entries on `session`'s connection, in its transaction (one executemany)."""
        if not self.rows:
            return
        who = current_actor()
        now = utcnow()
        for row in self.rows:
            row["created_at"] = now
            row["actor_kind"] = who.kind
            row["actor_id"] = who.id
            row["token_id"] = who.token_id
            row["request_id"] = who.request_id
        connection = session.connection(bind_arguments={"mapper": inspect(AuditEntry)})
        connection.execute(insert(AuditEntry), self.rows)
        self.rows = []
