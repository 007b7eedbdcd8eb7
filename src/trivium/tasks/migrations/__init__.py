"""Alembic revisions of the task outbox's table (branch label `tasks`), applied with the app's own.

`Tasks` adds this folder to its database's migrations through the plugin's
`migration_folders` hook, so `trivium db migrate` creates the `trivium_task_outbox` table.
"""
