"""Typed project settings on pydantic-settings: environment, `.env` files and a secrets directory.

```python
from trivium import App
from trivium.conf import Settings
from trivium.db import Database


class MySettings(Settings):
    page_size: int = 20


def create_app(settings: MySettings | None = None) -> App:
    settings = settings or MySettings()
    db = Database.from_settings(settings)
    return App(debug=settings.debug, plugins=[settings, db])
```

`trivium settings` prints every value and where it came from (docs/settings.md).
"""

from __future__ import annotations

from trivium.conf._origins import REDACTED
from trivium.conf._origins import Origin
from trivium.conf._origins import origins
from trivium.conf._origins import redact
from trivium.conf._settings import DEV_SECRET_KEY
from trivium.conf._settings import ENV_VARIABLE
from trivium.conf._settings import MIN_SECRET_KEY
from trivium.conf._settings import SECRETS_DIR_VARIABLE
from trivium.conf._settings import Settings
from trivium.conf._settings import env_files
from trivium.conf._settings import get_settings
from trivium.conf._settings import secrets_dir

__all__ = [
    "DEV_SECRET_KEY",
    "ENV_VARIABLE",
    "MIN_SECRET_KEY",
    "REDACTED",
    "SECRETS_DIR_VARIABLE",
    "Origin",
    "Settings",
    "env_files",
    "get_settings",
    "origins",
    "redact",
    "secrets_dir",
]
