"""Where each setting came from, for `trivium settings`.

Every source pydantic-settings reads is asked again, on its own, which fields it holds;
the first in priority order that has one is its origin. Secret values are redacted:
`SecretStr` fields, fields listed in `Settings.secret_fields`, fields whose name says
secret (`password`, `token`, `secret`, `key`), and the passwords inside URLs: the
`user:password@` part, and query parameters named like a secret (`?password=`, which
asyncpg and other drivers accept, `?token=`, `?secret=`...).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_settings import DotEnvSettingsSource
from pydantic_settings import EnvSettingsSource
from pydantic_settings import SecretsSettingsSource

from trivium.conf._settings import Settings

__all__ = ["REDACTED", "Origin", "origins", "redact"]

REDACTED = "********"
"""What a secret value is shown as."""
_SECRET_NAME = re.compile(r"(password|passwd|secret|token|(^|_)key$|api_key|private)", re.I)
# The password runs to the last `@` before the host, as URL parsers (redis-py, smtplib's
# callers, SQLAlchemy) split it, so a password holding `@` is hidden whole; the second
# pattern hides one holding an unencoded `/` too, which parsers would misread anyway.
_URL_PASSWORD = re.compile(
    r"^(?P<head>[a-zA-Z][\w+.-]*://[^:/@?#]*:)(?P<pw>[^/?#]*)(?P<tail>@[^@/?#]*([/?#].*)?)$"
)
_URL_PASSWORD_LOOSE = re.compile(
    r"^(?P<head>[a-zA-Z][\w+.-]*://[^:/@]*:)(?P<pw>[^@]*)(?P<tail>@.*)$"
)
# `name=value` in a query string: the value ends at the next parameter, a fragment, or
# the end of the URL (a quote or space, when the URL is inside a rendered list).
_QUERY_PARAMETER = re.compile(r"(?P<name>(?<=[?&;])[^=&;#?\s\"']+)=(?P<value>[^&;#\s\"']*)")
_SECRET_PARAMETER = re.compile(
    r"(pass(word|wd|phrase)|pwd|secret|token|(^|[_.-])key$|api_?key|private|credential)", re.I
)


@dataclasses.dataclass(frozen=True, slots=True)
class Origin:
    """One setting: its name, its value as shown (secrets redacted) and where it came from."""

    name: str
    """The field name."""
    value: str
    """The value, rendered for display; secrets redacted."""
    source: str
    """`init`, `env`, `.env file <path>`, `secrets dir <path>` or `default`."""
    variable: str
    """The environment variable (or dotenv key, or secrets file name) that sets it."""


def origins(settings: Settings) -> list[Origin]:
    """Return every field of `settings` with its displayed value and its origin."""
    cls = type(settings)
    prefix = cls.model_config.get("env_prefix", "")
    layers: list[tuple[str, set[str]]] = [("init", set(settings.given))]
    layers.append(("env", set(EnvSettingsSource(cls)())))
    for path in reversed(settings.env_files):
        if path.is_file():
            found = DotEnvSettingsSource(cls, env_file=path)()
            layers.append((f".env file {_show(path)}", set(found)))
    if settings.secrets_dir is not None:
        found = SecretsSettingsSource(cls, secrets_dir=settings.secrets_dir)()
        layers.append((f"secrets dir {_show(settings.secrets_dir)}", set(found)))
    result = []
    for name in cls.model_fields:
        source = next((label for label, names in layers if name in names), "default")
        value = getattr(settings, name)
        shown = REDACTED if _is_secret(cls, name, value) else redact(_render(value))
        result.append(Origin(name, shown, source, f"{prefix}{name}".upper()))
    return result


def redact(text: str) -> str:
    """Return `text` with the passwords of a URL in it replaced by `REDACTED`.

    That is the password of `user:password@host`, and the value of every query
    parameter named like a secret (`?password=`, `?token=`, `?secret=`, `?api_key=`).
    """
    match = _URL_PASSWORD.match(text) or _URL_PASSWORD_LOOSE.match(text)
    if match is not None and match.group("pw"):
        text = f"{match.group('head')}{REDACTED}{match.group('tail')}"
    if "://" in text and "=" in text:
        text = _QUERY_PARAMETER.sub(_redact_parameter, text)
    return text


def _redact_parameter(match: re.Match[str]) -> str:
    name = match.group("name")
    if not match.group("value") or not _SECRET_PARAMETER.search(name):
        return match.group(0)
    return f"{name}={REDACTED}"


def _is_secret(cls: type[Settings], name: str, value: Any) -> bool:
    if isinstance(value, SecretStr) or name in cls.secret_fields:
        return True
    return bool(_SECRET_NAME.search(name)) and not isinstance(value, bool)


def _render(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | dict):
        import json

        return json.dumps(value, default=str)
    return str(value)


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
