"""Alembic revisions of the audit trail's table (branch label `audit`), applied with the app's own.

`Audit(db)` adds this folder to `db`'s migrations through the plugin's
`migration_folders` hook, so `trivium db migrate` creates the `trivium_audit` table.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["VERSIONS"]

VERSIONS = Path(__file__).parent
"""The folder holding the revision files, for Alembic's `version_locations`."""
