"""Which battery branches a project revision depends on, and dependencies nobody provides.

A project revision depends on a battery's branch only when its tables point at that
battery's tables (foreign keys). So `trivium db downgrade auth@-1` leaves the project's
tables alone unless they refer to auth's, and a project migrates whichever batteries a
configuration installs: with sessions kept in Redis there is no `trivium_store` table.

Revisions written by older versions depend on every battery head of their time. A
dependency on a revision of a trivium battery that this configuration does not install
counts as met (the battery keeps no tables in this database); any other unknown
dependency is refused in one line instead of Alembic's `KeyError` traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from alembic.operations import ops
from alembic.script import ScriptDirectory
from alembic.util import to_tuple
from sqlalchemy import Column
from sqlalchemy import ForeignKeyConstraint

from trivium.db._revisions import MigrationError

if TYPE_CHECKING:
    from alembic.script import Script

__all__ = [
    "LenientScriptDirectory",
    "heads_for",
    "referenced_tables",
    "trivium_battery_folders",
]

_REVISION = re.compile(r"^revision(?:\s*:[^=\n]*)?\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_LABELS = re.compile(r"^branch_labels(?:\s*:[^=\n]*)?\s*=\s*(.+)$", re.MULTILINE)


def trivium_battery_folders() -> list[Path]:
    """Return the `migrations` folders of trivium's own batteries."""
    root = Path(__file__).resolve().parents[1]
    return sorted(path for path in root.glob("*/migrations") if path.is_dir())


def referenced_tables(operations: Iterable[Any]) -> set[str]:
    """Return the tables the foreign keys created by `operations` point at."""
    found: set[str] = set()
    for operation in operations:
        if isinstance(operation, ops.ModifyTableOps):
            found |= referenced_tables(operation.ops)
        elif isinstance(operation, ops.CreateForeignKeyOp):
            found.add(str(operation.referent_table))
        elif isinstance(operation, ops.CreateTableOp):
            for item in operation.columns:
                found |= _targets(item)
        elif isinstance(operation, ops.AddColumnOp):
            found |= _targets(operation.column)
    return found


def _targets(item: Any) -> set[str]:
    if isinstance(item, ForeignKeyConstraint):
        keys = list(item.elements)
    elif isinstance(item, Column):
        keys = list(item.foreign_keys)
    else:
        return set()
    # "table.column" or "schema.table.column": the table is the second to last part.
    return {key.target_fullname.split(".")[-2] for key in keys}


def _battery_names() -> set[str]:
    """Return the revision ids and branch labels of trivium's own batteries."""
    names: set[str] = set()
    for folder in trivium_battery_folders():
        for path in folder.glob("*.py"):
            source = path.read_text(encoding="utf-8")
            names.update(_REVISION.findall(source))
            for labels in _LABELS.findall(source):
                names.update(re.findall(r"['\"]([^'\"]+)['\"]", labels))
    return names


class LenientScriptDirectory(ScriptDirectory):
    """A `ScriptDirectory` where a dependency on an absent trivium battery counts as met."""

    def _load_revisions(self) -> Iterator[Script]:
        scripts = list(super()._load_revisions())
        known = {script.revision for script in scripts}
        known |= {label for script in scripts for label in script.branch_labels}
        batteries: set[str] | None = None
        for script in scripts:
            missing = [dep for dep in to_tuple(script.dependencies, ()) if dep not in known]
            if not missing:
                continue
            batteries = _battery_names() if batteries is None else batteries
            unknown = [dep for dep in missing if dep not in batteries]
            if unknown:
                raise MigrationError(_unknown_dependency(script, unknown))
            kept = tuple(dep for dep in to_tuple(script.dependencies, ()) if dep in known)
            script.dependencies = kept or None
        yield from scripts


def _unknown_dependency(script: Script, unknown: list[str]) -> str:
    shown = ", ".join(unknown)
    return (
        f"revision {script.revision} ({script.path}) depends on {shown}, which no "
        "migrations folder here holds: install the battery providing it (or include its "
        "migrations with db.include_migrations), or remove it from the revision's depends_on"
    )


def heads_for(tables: Iterable[str], heads: Mapping[str, str]) -> list[str] | None:
    """Return the battery heads owning `tables`, sorted, or None when there is none."""
    return sorted({heads[table] for table in tables if table in heads}) or None
