"""Alembic revisions of the auth tables (branch label `auth`), applied with the app's own.

The revision files are hand-written so that they match `trivium.auth`'s models on SQLite,
PostgreSQL and MariaDB, with every constraint named by `trivium.db.NAMING_CONVENTION`.
Add this folder to your Alembic `version_locations` (trivium's `db` commands do it for
you) and upgrade to `heads`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["VERSIONS"]

VERSIONS = Path(__file__).parent
"""The folder holding the revision files, for Alembic's `version_locations`."""
