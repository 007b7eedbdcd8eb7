"""`trivium audit purge`: delete audit entries older than a given age (or the retention).

The `Audit` plugin contributes the `audit` group through its `cli_commands` hook; the
command runs for the app named by `TRIVIUM_APP`, on the audited database, without
starting the app.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING
from typing import Any

import anyio
import click

if TYPE_CHECKING:
    from trivium.audit._audit import Audit

__all__ = ["audit_group", "parse_age"]

_AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> datetime.timedelta:
    """Return the age `text` gives: a number and a unit (`90d`, `12h`, `2w`, `30m`, `45s`).

    Raises:
        ValueError: `text` is not such an age, is zero, or is so large that the cutoff
            (now minus the age) falls before the year 1.
    """
    match = _AGE.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not an age; write a number and a unit: 90d, 12h, 2w, 30m, 45s"
        )
    amount = int(match.group(1))
    if amount == 0:
        raise ValueError(f"{text!r}: the age must be above zero")
    try:
        age = datetime.timedelta(**{_UNITS[match.group(2)]: amount})
        datetime.datetime.now(datetime.UTC) - age  # the cutoff must exist too
    except OverflowError:
        raise ValueError(
            f"{text!r}: the age is too large (the cutoff would fall before the year 1)"
        ) from None
    return age


class _Age(click.ParamType):  # type: ignore[type-arg]
    name = "AGE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime.timedelta):
            return value
        try:
            return parse_age(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def audit_group(audit: Audit) -> click.Group:
    """Return the `audit` command group of `audit`."""

    @click.group(name="audit", help="Manage the audit trail (trivium.audit).")
    def group() -> None:
        pass

    @group.command(name="purge")
    @click.option(
        "--older-than",
        type=_Age(),
        default=None,
        help="Delete entries older than this (90d, 12h, 2w); default: the Audit retention.",
    )
    @click.option("--dry-run", is_flag=True, help="Only say how many entries would go.")
    def purge(older_than: datetime.timedelta | None, dry_run: bool) -> None:
        """Delete audit entries older than --older-than (or the retention)."""
        if older_than is None and audit.retention is None:
            raise click.UsageError(
                "give --older-than (e.g. 90d), or set Audit(db, retention=timedelta(...))"
            )

        async def run() -> int:
            try:
                if dry_run:
                    return await audit.count_older(older_than)
                return await audit.purge(older_than)
            finally:
                await audit.db.dispose()

        count = anyio.run(run)
        cutoff = audit.cutoff(older_than).isoformat(timespec="seconds")
        verb = "Would delete" if dry_run else "Deleted"
        click.echo(f"{verb} {count} audit entries older than {cutoff}.")

    return group
