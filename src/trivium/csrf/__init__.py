"""Cross-site request forgery protection for cookie-authenticated apps.

```python
from trivium import App, Request
from trivium.csrf import CSRF, get_csrf_token
from trivium.responses import HTMLResponse
from trivium.sessions import Sessions

app = App(plugins=[Sessions(secret_key="change-me-to-48-random-characters-please-xxxxxxxx"), CSRF()])


@app.get("/form")
async def form(request: Request) -> HTMLResponse:
    token = get_csrf_token(request)
    return HTMLResponse(
        f'<form method="post" action="/save">'
        f'<input type="hidden" name="csrf_token" value="{token}"><button>Save</button></form>'
    )
```

See `docs/csrf.md` for the rules.
"""

from __future__ import annotations

from trivium.csrf._middleware import CSRFMiddleware
from trivium.csrf._origin import normalize_origin
from trivium.csrf._plugin import CSRF
from trivium.csrf._plugin import CSRFStep
from trivium.csrf._policy import SAFE_METHODS
from trivium.csrf._policy import CSRFPolicy
from trivium.csrf._token import CSRF_FIELD
from trivium.csrf._token import csrf_field_name
from trivium.csrf._token import get_csrf_token
from trivium.csrf._token import rotate_csrf_secret

__all__ = [
    "CSRF",
    "CSRF_FIELD",
    "SAFE_METHODS",
    "CSRFMiddleware",
    "CSRFPolicy",
    "CSRFStep",
    "csrf_field_name",
    "get_csrf_token",
    "normalize_origin",
    "rotate_csrf_secret",
]
