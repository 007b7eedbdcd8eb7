"""The process environment as trivium reads it: variable names in any case.

`Settings` (pydantic-settings) matches environment variables without regard to case,
so `trivium_env=production` and `TRIVIUM_ENV=production` mean the same. The core
(`App.production`, the server's log format) and the batteries read the environment
through these helpers so every part of trivium agrees on what the variable says.

```python
from trivium.environment import environment_value, production

environment_value("TRIVIUM_ENV")  # "production", or None when unset
production()  # True when TRIVIUM_ENV (in any case) is "production"
```
"""

from __future__ import annotations

import os

from trivium.errors import ConfigurationError

__all__ = ["ENV_VARIABLE", "environment_value", "production"]

ENV_VARIABLE = "TRIVIUM_ENV"
"""The variable naming the environment: `production`, `development`, `staging`..."""


def environment_value(name: str) -> str | None:
    """Return the process environment's variable `name` in any case, as `Settings` reads it.

    On POSIX the environment may hold `TRIVIUM_ENV` and `trivium_env` both; `Settings`
    reads either (it is not case-sensitive), so this does too.

    Raises:
        ConfigurationError: two spellings of `name` have different values
            (`settings-invalid`): which one `Settings` would take is not defined.
    """
    wanted = name.upper()
    found = {key: value for key, value in os.environ.items() if key.upper() == wanted}
    if len(set(found.values())) > 1:
        spellings = " and ".join(f"{key}={value!r}" for key, value in sorted(found.items()))
        raise ConfigurationError(
            f"the environment sets {spellings}: names are read in any case, so these are "
            f"one variable with two values; unset all but one (export {wanted} only)",
            "settings-invalid",
        )
    return next(iter(found.values()), None)


def production() -> bool:
    """Return whether `TRIVIUM_ENV` (name and value in any case) is `production`.

    Raises:
        ConfigurationError: the variable is set in two spellings with different values.
    """
    return (environment_value(ENV_VARIABLE) or "").strip().lower() == "production"
