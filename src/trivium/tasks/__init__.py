"""Background tasks on taskiq's brokers: `@tasks.task`, retries, delays, an outbox, workers.

```python
from trivium import App
from trivium.tasks import Retry, Tasks

tasks = Tasks()  # in memory; Tasks("redis://localhost:6379/0") in production
app = App(plugins=[tasks])


@tasks.task(retry=Retry(max_attempts=3))
async def send_welcome(user_id: int) -> None: ...


@app.post("/users")
async def create() -> dict[str, str]:
    run = await send_welcome.enqueue(1)
    return {"task": run.id}
```

Needs the `tasks` extra (taskiq, taskiq-redis). See docs/tasks.md.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import MissingDependencyError

# The `tasks` extra, checked first for a one-line error. Importing taskiq takes almost
# half a second (it loads aiohttp), so only the Redis transport imports it, when it starts.
if importlib.util.find_spec("taskiq") is None:  # pragma: no cover - without the extra
    raise MissingDependencyError("taskiq", "tasks")

from trivium.tasks._errors import TaskFailedError
from trivium.tasks._retry import Retry
from trivium.tasks._state import TaskInfo
from trivium.tasks._state import TaskState
from trivium.tasks._task import Task
from trivium.tasks._task import TaskCall
from trivium.tasks._task import TaskRun
from trivium.tasks._tasks import Tasks

if TYPE_CHECKING:
    from trivium.tasks._outbox import OUTBOX_TABLE
    from trivium.tasks._outbox import OutboxEntry

__all__ = [
    "OUTBOX_TABLE",
    "OutboxEntry",
    "Retry",
    "Task",
    "TaskCall",
    "TaskFailedError",
    "TaskInfo",
    "TaskRun",
    "TaskState",
    "Tasks",
]


def __getattr__(name: str) -> Any:
    # The outbox's model needs SQLAlchemy (the `db` extra): loaded only when asked for.
    if name in ("OUTBOX_TABLE", "OutboxEntry"):
        from trivium.tasks import _outbox

        return getattr(_outbox, name)
    raise AttributeError(f"module 'trivium.tasks' has no attribute {name!r}")
