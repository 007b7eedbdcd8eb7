"""`Settings`: a project's typed configuration, read from the environment, `.env` files and secrets.

A project subclasses `Settings` and adds its own fields. Values come from, highest
priority first: arguments given to the constructor, environment variables
(`TRIVIUM_DATABASE_URL`), the environment's own dotenv file (`.env.production` when
`TRIVIUM_ENV=production`), `.env`, files in the secrets directory (`/run/secrets`, or
`TRIVIUM_SECRETS_DIR`), and the field's default. `origins()` says which one gave each value,
for `trivium settings`.

Settings is also a plugin: installed on an app (`App(plugins=[settings, ...])`) it gives
the app its environment, so `app.production` follows `settings.env`, and provides
`get_settings` to handlers. Nothing reads it per request from a global: the object is made
once by the app factory (`create_app(settings)`), and tests make their own.
"""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from dotenv import dotenv_values
from pydantic import BaseModel
from pydantic import PrivateAttr
from pydantic import SecretStr
from pydantic import ValidationError
from pydantic import field_validator
from pydantic import model_validator
from pydantic_settings import BaseSettings
from pydantic_settings import SettingsConfigDict
from pydantic_settings import SettingsError

from trivium.environment import ENV_VARIABLE
from trivium.environment import environment_value
from trivium.errors import ConfigurationError
from trivium.plugins import Plugin

if TYPE_CHECKING:
    from trivium.app import App

__all__ = [
    "DEV_SECRET_KEY",
    "ENV_VARIABLE",
    "MIN_SECRET_KEY",
    "SECRETS_DIR_VARIABLE",
    "Settings",
    "env_files",
    "environment_value",
    "get_settings",
    "secrets_dir",
]

SECRETS_DIR_VARIABLE = "TRIVIUM_SECRETS_DIR"
"""The environment variable naming the secrets directory (default `/run/secrets` if it exists)."""
DEV_SECRET_KEY = "insecure-development-key-change-me-in-production"  # noqa: S105 - refused in production
"""The default secret key: usable on a developer's machine, refused in production."""
MIN_SECRET_KEY = 32
"""The shortest secret key accepted in production."""
_DEFAULT_SECRETS_DIR = Path("/run/secrets")
_DEFAULT_ENV_FILES: Any = object()
"""`_env_file` not given: read `.env` and `.env.<env>` (`None` reads no dotenv file)."""


class Settings(BaseSettings, Plugin):
    """The settings of a project: subclass it and add fields.

    ```python
    class Settings(trivium.conf.Settings):
        page_size: int = 20          # TRIVIUM_PAGE_SIZE=50 in the environment or .env

    settings = Settings()             # or Settings(database_url="sqlite+aiosqlite://") in tests
    ```

    Field `name` is read from the variable `TRIVIUM_NAME` (any case) in the environment,
    in `.env.<env>` and `.env` in the working directory, and from the file
    `TRIVIUM_NAME` in the secrets directory. Unknown `TRIVIUM_*` keys in a dotenv file
    (other keys are left to other tools), unknown constructor arguments and values of
    the wrong type raise `ConfigurationError` (`settings-invalid`). `_env_file` names
    other dotenv files, as in pydantic-settings; `_env_file=None` reads none.

    Raises:
        ConfigurationError: a value is invalid (`settings-invalid`); in production
            (`env="production"`), the secret key is the default or shorter than 32
            characters (`settings-secret-key`), or `debug` is on
            (`settings-production-debug`).
    """

    model_config = SettingsConfigDict(
        env_prefix="TRIVIUM_",
        case_sensitive=False,
        extra="ignore",
        validate_default=True,
    )

    env: str = "development"
    """The deployment environment, in lower case (`Production` is read as `production`);
    `production` turns on the production checks."""
    debug: bool = False
    """Tracebacks in error pages (`App(debug=settings.debug)`); refused in production."""
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    """Signs sessions, CSRF tokens and reset links; at least 32 characters in production."""
    database_url: str = "sqlite+aiosqlite:///./app.db"
    """The database (`Database.from_settings`); plain `postgresql://` URLs get asyncpg."""
    redis_url: str | None = None
    """Redis, for sessions and throttling shared between workers (`Auth.from_settings`)."""
    site_url: str | None = None
    """The site's address (`https://example.com`), which email links start with."""
    allowed_hosts: list[str] = []
    """Host names the app answers to (a JSON list in the environment: `["example.com"]`)."""
    mail_from: str = "webmaster@localhost"
    """The sender of the emails the app sends."""
    mail_url: str | None = None
    """The SMTP server (`smtp://user:password@host:587?starttls=1`, `smtps://...`) that
    `Auth.from_settings` sends mail through; `None`: printed to the console (development)."""

    secret_fields: ClassVar[frozenset[str]] = frozenset()
    """Extra field names `trivium settings` redacts (`SecretStr` fields always are)."""
    other_variables: ClassVar[frozenset[str]] = frozenset(
        {"TRIVIUM_APP", "TRIVIUM_SETTINGS", "TRIVIUM_SECRETS_DIR"}
    )
    """`TRIVIUM_*` names a dotenv file may hold that are not fields (read by other tools);
    names starting with `TRIVIUM_TEST_` or `TRIVIUM_RUN_` are accepted too."""
    install_hint: ClassVar[str] = "App(plugins=[settings, ...]) with settings = Settings()"

    _files: tuple[Path, ...] = PrivateAttr(default=())
    _secrets: Path | None = PrivateAttr(default=None)
    _given: frozenset[str] = PrivateAttr(default=frozenset())

    def __init__(self, **values: Any) -> None:
        files = values.pop("_env_file", _DEFAULT_ENV_FILES)
        secrets = values.pop("_secrets_dir", None)
        if files is _DEFAULT_ENV_FILES:
            env = values.get("env")
            files = env_files(None if env is None else str(env))
        elif files is None:
            files = ()
        elif isinstance(files, str | Path):
            files = (Path(files),)
        if secrets is None:
            secrets = secrets_dir()
        unknown = sorted(set(values) - set(type(self).model_fields))
        unknown += _unknown_keys(type(self), files)
        if unknown:
            raise ConfigurationError(
                f"invalid {type(self).__name__}: {', '.join(unknown)}: not a field "
                f"(misspelt?); the fields are {', '.join(type(self).model_fields)}",
                "settings-invalid",
            )
        try:
            super().__init__(_env_file=tuple(files), _secrets_dir=secrets, **values)
        except ValidationError as exc:
            problem = _describe(type(self), exc, set(values), files, secrets)
            raise ConfigurationError(problem, "settings-invalid") from None
        except SettingsError as exc:
            # pydantic-settings reads list and model fields as JSON and fails on anything
            # else before validation, with a message naming neither variable nor remedy.
            problem = _unparsable(type(self), exc, files, secrets)
            raise ConfigurationError(problem, "settings-invalid") from None
        self._files = tuple(Path(f) for f in files)
        self._secrets = Path(secrets) if secrets is not None else None
        self._given = frozenset(values)
        if self.debug and self.production:
            where = _source_of(type(self), ("debug",), set(values), files, secrets)
            raise ConfigurationError(
                f"production mode (TRIVIUM_ENV=production) refuses debug=true{where}, which "
                "shows tracebacks to visitors; set TRIVIUM_DEBUG=false (in the environment "
                "or .env.production) or remove it from .env",
                "settings-production-debug",
            )

    @field_validator("env")
    @classmethod
    def _normalise_env(cls, value: str) -> str:
        # `Production` must not slip past every production check.
        return value.strip().lower()

    @model_validator(mode="after")
    def _production_checks(self) -> Settings:
        if self.env != "production":
            return self
        key = self.secret_key.get_secret_value()
        if key == DEV_SECRET_KEY or len(key) < MIN_SECRET_KEY:
            raise ConfigurationError(
                f"production mode (TRIVIUM_ENV=production) needs a secret key of at least "
                f"{MIN_SECRET_KEY} characters that is not the development default; set "
                "TRIVIUM_SECRET_KEY (generate one with python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')",
                "settings-secret-key",
            )
        return self

    @property
    def production(self) -> bool:
        """Whether these are production settings (`env == "production"`)."""
        return self.env == "production"

    @property
    def env_files(self) -> tuple[Path, ...]:
        """The dotenv files read, lowest priority first (missing ones are skipped)."""
        return self._files

    @property
    def secrets_dir(self) -> Path | None:
        """The secrets directory read, if any."""
        return self._secrets

    @property
    def given(self) -> frozenset[str]:
        """The fields given to the constructor."""
        return self._given

    # Plugin hooks ---------------------------------------------------------------------

    def setup(self, app: App) -> None:
        """Give the app its environment, so `app.production` follows `env`."""
        app.environment = self.env

    def providers(self, app: App) -> Mapping[Callable[..., Any], Callable[..., Any]]:
        """Provide `get_settings`: these settings."""
        del app
        return {get_settings: self._self}

    def _self(self) -> Settings:
        return self


def get_settings() -> Settings:
    """Return the app's settings (a dependency: `Annotated[MySettings, Depends(get_settings)]`).

    Raises:
        ConfigurationError: the app has no settings installed (`settings-not-installed`).
    """
    raise ConfigurationError(
        "get_settings needs the app's settings: install them with App(plugins=[settings, ...])",
        "settings-not-installed",
    )


def env_files(env: str | None = None, directory: Path | None = None) -> tuple[Path, ...]:
    """Return the dotenv files for `env`: `.env` then `.env.<env>` (which wins).

    `env` defaults to `TRIVIUM_ENV` from the process environment (in any case, as
    `Settings` reads it: `trivium_env=production` reads `.env.production`), else from
    `.env`; it is put in lower case, as `Settings.env` is (`Staging` reads `.env.staging`).

    Raises:
        ConfigurationError: the environment sets the variable in two spellings with
            different values (`settings-invalid`).
    """
    directory = Path.cwd() if directory is None else directory
    base = directory / ".env"
    if env is None:
        env = environment_value(ENV_VARIABLE)
    if env is None and base.is_file():
        values = {k.upper(): v for k, v in dotenv_values(base).items()}
        env = values.get(ENV_VARIABLE)
    env = (env or "development").strip().lower()
    return (base, directory / f".env.{env}")


def secrets_dir() -> Path | None:
    """Return the secrets directory: `TRIVIUM_SECRETS_DIR`, else `/run/secrets` if it exists.

    Raises:
        ConfigurationError: `TRIVIUM_SECRETS_DIR` is not a directory (`settings-secrets-dir`).
    """
    named = os.environ.get(SECRETS_DIR_VARIABLE)
    if named:
        path = Path(named)
        if not path.is_dir():
            raise ConfigurationError(
                f"{SECRETS_DIR_VARIABLE}={named!r} is not a directory; create it or unset it",
                "settings-secrets-dir",
            )
        return path
    return _DEFAULT_SECRETS_DIR if _DEFAULT_SECRETS_DIR.is_dir() else None


_PROCESS_ONLY = frozenset(
    f"TRIVIUM_{name}"
    for name in (
        "HOST",
        "PORT",
        "WORKERS",
        "SERVER",
        "INTERFACE",
        "RELOAD",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "ACCESS_LOG",
        "ROOT_PATH",
        "SSL_CERTFILE",
        "SSL_KEYFILE",
        "SHUTDOWN_TIMEOUT",
        "PASSWORD_HASHER",
        "SUPERUSER_EMAIL",
        "SUPERUSER_USERNAME",
        "SUPERUSER_PASSWORD",
    )
)
"""Variables trivium's commands read from the process environment, never from dotenv files."""


def _unknown_keys(cls: type[Settings], files: Any) -> list[str]:
    """Return the `TRIVIUM_*` keys of the dotenv `files` that name no field."""
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    known = {f"{prefix}{name}".upper() for name in cls.model_fields} | cls.other_variables
    unknown = []
    for path in files:
        if not Path(path).is_file():
            continue
        for key in dotenv_values(path):
            name = key.upper()
            if not prefix or not name.startswith(prefix) or name in known:
                continue
            if _nested_field(cls, name[len(prefix) :]):
                continue
            if name in _PROCESS_ONLY:
                unknown.append(
                    f"{key} in {path} (trivium's commands read it from the process "
                    "environment only: export it instead)"
                )
            elif not name.startswith(("TRIVIUM_TEST_", "TRIVIUM_RUN_")):
                unknown.append(f"{key} in {path}")
    return unknown


def _nested_field(cls: type[Settings], name: str) -> bool:
    """Whether `name` (prefix removed, upper case) is `FIELD<delimiter>SUBFIELD...`.

    With `env_nested_delimiter="__"`, `TRIVIUM_DB__HOST` sets `db.host`; each part must
    name a field of the model it goes into (a dict, or any other type, takes any key).
    """
    delimiter = str(cls.model_config.get("env_nested_delimiter") or "").upper()
    return bool(delimiter) and _names_a_path(cls, name, delimiter)


def _names_a_path(model: type[BaseModel], name: str, delimiter: str) -> bool:
    """Whether `name` is a field of `model`, or `FIELD<delimiter>...` down to one."""
    for field_name, field in model.model_fields.items():
        for key in {field_name.upper(), str(field.alias or field_name).upper()}:
            if name == key:
                return True
            rest = name.removeprefix(key + delimiter)
            if rest in (name, ""):
                continue
            models = _models_of(field.annotation)
            if models is None or any(_names_a_path(sub, rest, delimiter) for sub in models):
                return True
    return False


def _models_of(annotation: Any) -> list[type[BaseModel]] | None:
    """Return the models `annotation` allows, or `None` if it allows anything else."""
    options = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    options = tuple(option for option in options if option is not type(None))
    if all(isinstance(option, type) and issubclass(option, BaseModel) for option in options):
        return list(options)
    return None


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _describe(
    cls: type[Settings], exc: ValidationError, given: set[str], files: Any, secrets: Any
) -> str:
    """Name each invalid field, and where its value came from unless passed in code."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(settings)"
        where = _source_of(cls, tuple(error["loc"]), given, files, secrets)
        problems.append(f"{field}{where}: {error['msg']}")
    return f"invalid {cls.__name__}: " + "; ".join(problems)


def _source_of(
    cls: type[Settings], loc: tuple[int | str, ...], given: set[str], files: Any, secrets: Any
) -> str:
    """Return ` (VARIABLE in the environment)`, or the dotenv file or secret holding it.

    `loc` is the field and the path inside it (`("db", "port")`), which a nested
    variable (`TRIVIUM_DB__PORT`) may set when the settings have `env_nested_delimiter`.
    """
    if not loc:
        return ""
    name, inner = str(loc[0]), loc[1:]
    if name in given or name not in cls.model_fields:
        return ""
    variables = _variables(cls, name, inner)
    environment = {key.upper() for key in os.environ}
    for variable in variables:
        if variable in environment:
            return f" ({variable} in the environment)"
    for path in reversed(tuple(files)):
        if Path(path).is_file():
            keys = {k.upper() for k in dotenv_values(path)}
            found = next((variable for variable in variables if variable in keys), None)
            if found is not None:
                return f" ({found} in {path})"
    variable = variables[-1]
    if secrets is not None and (Path(secrets) / variable).is_file():
        return f" (the file {variable} in the secrets directory {secrets})"
    return ""


def _variables(cls: type[Settings], name: str, inner: tuple[int | str, ...]) -> list[str]:
    """Return the variables that may set `name` (and `inner` in it), most specific first."""
    variable = f"{cls.model_config.get('env_prefix', '')}{name}".upper()
    delimiter = str(cls.model_config.get("env_nested_delimiter") or "")
    parts = [str(part).upper() for part in inner]
    if not delimiter:
        return [variable]
    nested = [delimiter.upper().join([variable, *parts[:n]]) for n in range(len(parts), 0, -1)]
    return [*nested, variable]


_PARSE_FAILURE = re.compile(r'field "(?P<field>[^"]+)" from source "(?P<source>\w+)"')


def _unparsable(cls: type[Settings], exc: SettingsError, files: Any, secrets: Any) -> str:
    """Say which variable holds a value that is not the JSON its field needs, and how to fix it."""
    match = _PARSE_FAILURE.search(str(exc))
    field = cls.model_fields.get(match["field"]) if match is not None else None
    if match is None or field is None:
        return f"invalid {cls.__name__}: {exc}"
    name, source = match["field"], match["source"]
    variable = f"{cls.model_config.get('env_prefix', '')}{name}".upper()
    if source == "DotEnvSettingsSource":
        where = f"{variable} in {_dotenv_holding(variable, files)}"
    elif source == "SecretsSettingsSource":
        where = f"the file {variable} in the secrets directory {secrets}"
    else:
        where = f"{variable} in the environment"
    annotation = field.annotation
    shown = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    return (
        f"invalid {cls.__name__}: {where} is not valid JSON; {name} is a "
        f"{shown.replace('typing.', '')} field, so its value must be written as JSON"
        f"{_json_example(variable, annotation)}"
    )


def _dotenv_holding(variable: str, files: Any) -> str:
    """Return the dotenv file (of highest priority) that sets `variable`."""
    for path in reversed(tuple(files)):
        if Path(path).is_file() and variable in {k.upper() for k in dotenv_values(path)}:
            return str(path)
    return "a dotenv file"


def _json_example(variable: str, annotation: Any) -> str:
    kind = typing.get_origin(annotation) or annotation
    if kind in (list, tuple, set, frozenset):
        return f', e.g. {variable}=\'["a", "b"]\''
    if kind is dict:
        return f', e.g. {variable}=\'{{"key": "value"}}\''
    return ""
