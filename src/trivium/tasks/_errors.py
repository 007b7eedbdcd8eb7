"""The errors of `trivium.tasks`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trivium.errors import TriviumError

if TYPE_CHECKING:
    from trivium.tasks._state import TaskInfo

__all__ = ["TaskFailedError"]


class TaskFailedError(TriviumError):
    """A run waited for with `TaskRun.result()` failed or was cancelled."""

    def __init__(self, info: TaskInfo) -> None:
        super().__init__(f"task {info.name} ({info.id}) {info.state}: {info.error or ''}")
        self.info = info
        """The run's final state (its `error` and `traceback`)."""
