"""Where each setting came from, for `trivium settings`.

Every source pydantic-settings reads is asked again, on its own, which fields it holds;
the first in priority order that has one is its origin. Secret values are redacted:
`SecretStr` fields, fields listed in `Settings.secret_fields`, fields whose name says
secret (`password`, `token`, `secret`, `credential`, `..._key`), and the passwords inside
URLs: the `user:password@` part, and query parameters named like a secret (`?password=`,
which asyncpg and other drivers accept, `?token=`, `?secret=`...). Values that are models,
dicts or lists are walked: their fields and keys named like a secret are redacted too, and
so are the URLs in every string, wherever in the string they stand.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic import SecretBytes
from pydantic import SecretStr
from pydantic_settings import DotEnvSettingsSource
from pydantic_settings import EnvSettingsSource
from pydantic_settings import SecretsSettingsSource

from trivium.conf._settings import Settings

__all__ = ["REDACTED", "Origin", "origins", "redact"]

REDACTED = "********"
"""What a secret value is shown as."""
# One pattern for field names, dict keys and query parameters alike.
_SECRET_NAME = re.compile(
    r"(pass(word|wd|phrase)|pwd|secret|token|(^|[_.-])key$|api_?key|private|credential)", re.I
)
# Where a URL starts: a scheme not glued to a preceding word. A URL runs to the next
# space or quote, or to where another URL starts (`a://...,b://...`).
_URL_START = re.compile(r"(?<![\w+.-])[a-zA-Z][\w+.-]*://")
_URL_END = re.compile(r"[\s\"'<>]")
# `user:` at the start of the authority: what follows it, up to the `@` before the
# host, is the password.
_USER = re.compile(r"[^:/@?#\s]*:")
# `name=value` in a query string: the value ends at the next parameter or a fragment.
_QUERY_PARAMETER = re.compile(r"(?P<name>(?<=[?&;])[^=&;#?]+)=(?P<value>[^&;#]*)")


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
    """Return `text` with the passwords of every URL in it replaced by `REDACTED`.

    That is the password of `user:password@host`, which runs to the last `@` before the
    query string, so a password holding `@` or `/` is hidden whole, and the value of
    every query parameter named like a secret (`?password=`, `?token=`, `?api_key=`).
    """
    starts = [match.start() for match in _URL_START.finditer(text)]
    if not starts:
        return str(text)
    pieces = [text[: starts[0]]]
    for start, limit in zip(starts, [*starts[1:], len(text)], strict=True):
        stop = _URL_END.search(text, start, limit)
        end = limit if stop is None else stop.start()
        pieces += [_redact_url(text[start:end]), text[end:limit]]
    return "".join(pieces)


def _redact_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    user = _USER.match(rest)
    if user is not None:
        query = re.search(r"[?#]", rest)
        at = rest.rfind("@", 0, query.start() if query is not None else len(rest))
        if at < user.end():
            at = rest.rfind("@")
        if at > user.end():
            rest = f"{rest[: user.end()]}{REDACTED}{rest[at:]}"
    if "=" in rest:
        rest = _QUERY_PARAMETER.sub(_redact_parameter, rest)
    return f"{scheme}://{rest}"


def _redact_parameter(match: re.Match[str]) -> str:
    name = match.group("name")
    if not match.group("value") or not _SECRET_NAME.search(name):
        return match.group(0)
    return f"{name}={REDACTED}"


def _is_secret(cls: type[Settings], name: str, value: Any) -> bool:
    if isinstance(value, SecretStr) or name in cls.secret_fields:
        return True
    return _named_secret(name, value)


def _named_secret(name: str, value: Any) -> bool:
    return bool(_SECRET_NAME.search(name)) and not isinstance(value, bool)


def _render(value: Any) -> str:
    shown = _scrub(value)
    if isinstance(shown, str):
        return shown
    if shown is None or isinstance(shown, bool | int | float):
        return str(shown)
    return json.dumps(shown)


def _scrub(value: Any) -> Any:
    """Return `value` as JSON data, its secrets and the passwords of its URLs redacted."""
    if isinstance(value, SecretStr | SecretBytes):
        return REDACTED
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, BaseModel):
        return _scrub_items(dict(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _scrub_items({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, Mapping):
        return _scrub_items(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(item) for item in value]
    return redact(str(value))


def _scrub_items(items: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        str(key): REDACTED if _named_secret(str(key), item) else _scrub(item)
        for key, item in items.items()
    }


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
