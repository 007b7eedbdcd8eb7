"""libpq's URL parameters, translated for asyncpg.

Hosts hand out `postgresql://...?sslmode=require` URLs written for libpq. asyncpg takes
keyword arguments instead (`ssl`, `timeout`, `server_settings`), and SQLAlchemy passes
the URL's query to it as is, so `sslmode` alone would fail every connection with a
`TypeError`. The common libpq parameters are moved from the URL to `connect_args`; a
parameter asyncpg does not know is refused in one line naming it.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = ["libpq_translated"]

_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_TRANSLATED = ("sslmode", "connect_timeout", "application_name", "options")
# asyncpg.connect's keyword arguments a URL may carry, and those SQLAlchemy's dialect takes.
_ASYNCPG = frozenset(
    {
        "host",
        "port",
        "user",
        "password",
        "database",
        "passfile",
        "service",
        "servicefile",
        "timeout",
        "statement_cache_size",
        "max_cached_statement_lifetime",
        "max_cacheable_statement_size",
        "command_timeout",
        "ssl",
        "direct_tls",
        "target_session_attrs",
        "krbsrvname",
        "gsslib",
        "prepared_statement_cache_size",
        "prepared_statement_name_func",
    }
)


def libpq_translated(url: URL, options: dict[str, Any]) -> tuple[URL, dict[str, Any]]:
    """Return `url` without libpq's parameters, and engine `options` with them translated.

    Only `postgresql+asyncpg` URLs change: `sslmode` becomes `ssl` (asyncpg takes the
    same modes), `connect_timeout` `timeout`, `application_name` and `options`'s
    `-c name=value` settings `server_settings`. `connect_args` given in `options` win.

    Raises:
        ConfigurationError: `db-url-parameter`: a parameter asyncpg does not take, or a
            value it cannot use.
    """
    if url.get_backend_name() != "postgresql" or url.get_driver_name() != "asyncpg":
        return url, options
    query = dict(url.query)
    unknown = sorted(key for key in query if key not in _ASYNCPG and key not in _TRANSLATED)
    if unknown:
        raise ConfigurationError(
            f"the database URL parameter {unknown[0]!r} is not one asyncpg takes; remove it "
            f"(libpq's {', '.join(_TRANSLATED)} are translated, asyncpg's own are kept)",
            "db-url-parameter",
        )
    found = {key: _one(key, query.pop(key)) for key in _TRANSLATED if key in query}
    if not found:
        return url, options
    given = dict(options.get("connect_args", {}))
    settings = {**_server_settings(found), **given.get("server_settings", {})}
    connect = {**_arguments(found), **given}
    if settings:
        connect["server_settings"] = settings
    return url.set(query=query), {**options, "connect_args": connect}


def _one(key: str, value: str | tuple[str, ...]) -> str:
    if isinstance(value, str):
        return value
    if len(value) == 1:
        return value[0]
    raise ConfigurationError(
        f"the database URL gives {key!r} {len(value)} times; keep one", "db-url-parameter"
    )


def _arguments(found: dict[str, str]) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    if "sslmode" in found:
        mode = found["sslmode"]
        if mode not in _SSL_MODES:
            raise ConfigurationError(
                f"the database URL's sslmode={mode!r} is not a mode; use one of: "
                f"{', '.join(_SSL_MODES)}",
                "db-url-parameter",
            )
        arguments["ssl"] = mode
    if "connect_timeout" in found:
        try:
            seconds = float(found["connect_timeout"])
        except ValueError:
            seconds = -1.0
        if not seconds > 0:
            raise ConfigurationError(
                f"the database URL's connect_timeout={found['connect_timeout']!r} is not a "
                "number of seconds above 0; fix it, e.g. connect_timeout=10",
                "db-url-parameter",
            )
        arguments["timeout"] = seconds
    return arguments


def _server_settings(found: dict[str, str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    if "application_name" in found:
        settings["application_name"] = found["application_name"]
    # libpq's `options`: "-c name=value", "-cname=value" or "--name=value", several.
    words = shlex.split(found.get("options", ""))
    for index, word in enumerate(words):
        if word == "-c" or (index and words[index - 1] == "-c"):
            setting = "" if word == "-c" else word
        else:
            setting = word.removeprefix("-c") if word.startswith("-c") else ""
            setting = word[2:] if word.startswith("--") else setting
        if word == "-c" and index + 1 < len(words):
            continue
        name, equals, value = setting.partition("=")
        if not (name and equals):
            raise ConfigurationError(
                f"the database URL's options={found['options']!r} holds {word!r}; write "
                "settings as -c name=value (e.g. options=-c%20search_path%3Dapp)",
                "db-url-parameter",
            )
        settings[name.strip().replace("-", "_")] = value
    return settings
