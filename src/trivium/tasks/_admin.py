"""The admin's "Tasks" page (when `trivium.admin` is installed): runs, retry and cancel.

Added through the admin's public `AdminPage`; open to superusers and to staff holding
the permission `tasks.manage_tasks`.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING
from typing import Any

from trivium.responses import RedirectResponse

if TYPE_CHECKING:
    from collections.abc import Mapping

    from trivium.http import Request
    from trivium.responses import Response
    from trivium.tasks._tasks import Tasks

__all__ = ["PERMISSION", "admin_page"]

PERMISSION = "tasks.manage_tasks"
"""The permission (besides superusers) that opens the admin's Tasks page."""
_STATES = ("queued", "running", "retrying", "failed", "done", "cancelled")


def admin_page(tasks: Tasks) -> Any:
    """Return the `AdminPage` listing `tasks`' runs."""
    from trivium.admin import AdminPage

    async def view(request: Request) -> Mapping[str, Any] | Response:
        if request.method == "POST":
            form = await request.form()
            task_id, action = str(form.get("id", "")), form.get("action")
            try:
                if action == "retry":
                    await tasks.retry(task_id)
                elif action == "cancel":
                    await tasks.cancel(task_id)
            except (LookupError, ValueError):
                pass  # the list shows the run's real state
            return RedirectResponse(str(request.url), status_code=303)
        state = request.query_params.get("state") or None
        if state not in _STATES:
            state = None
        runs = [
            {
                "id": info.id,
                "name": info.name,
                "state": info.state,
                "attempts": info.attempts,
                "priority": info.priority,
                "max_attempts": info.max_attempts,
                "error": info.error if info.state != "done" else None,
                "traceback": info.traceback if info.state in ("failed", "retrying") else None,
                "when": datetime.datetime.fromtimestamp(info.enqueued_at, datetime.UTC).strftime(
                    "%Y-%m-%d %H:%M:%S"
                ),
                "action": "retry"
                if info.state in ("failed", "cancelled")
                and "[redacted]" not in info.kwargs.values()
                else "cancel"
                if info.state in ("queued", "running", "retrying")
                else None,
            }
            for info in await tasks.list(state=state, limit=100)
        ]
        return {"runs": runs, "states": _STATES, "current_state": state}

    return AdminPage(
        "/tasks",
        "Tasks",
        view=view,
        template="trivium_tasks/admin_tasks.html",
        permission=PERMISSION,
    )
