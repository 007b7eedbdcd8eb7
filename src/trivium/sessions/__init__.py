"""Server-side sessions: a signed random id in a cookie, the data in a `Store`.

```python
from trivium import App, Request
from trivium.sessions import Sessions
from trivium.stores import MemoryStore

app = App(plugins=[Sessions(secret_key="change-me-to-48-random-characters-please-xxxxxxxx", store=MemoryStore())])


@app.post("/visit")
async def visit(request: Request) -> dict[str, int]:
    request.session["visits"] = request.session.get("visits", 0) + 1
    return {"visits": request.session["visits"]}
```

Needs `itsdangerous` (the `auth` extra). See `docs/sessions.md`.
"""

from __future__ import annotations

from trivium.sessions._manager import MIN_SECRET_KEY_LENGTH
from trivium.sessions._manager import SessionManager
from trivium.sessions._middleware import SessionMiddleware
from trivium.sessions._plugin import Sessions
from trivium.sessions._plugin import SessionStep
from trivium.sessions._session import Session

__all__ = [
    "MIN_SECRET_KEY_LENGTH",
    "Session",
    "SessionManager",
    "SessionMiddleware",
    "SessionStep",
    "Sessions",
]
