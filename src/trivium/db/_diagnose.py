"""One-line explanations of database mistakes: a misspelt URL scheme, a missing database.

A wrong URL or an unreachable server otherwise surfaces as a driver traceback of a
hundred lines or more. These helpers turn the common cases into a `ConfigurationError`
that names the database, the host and what to do; they are used where a person reads
the message: the `Database` constructor, its start-up connection and `trivium db`.
"""

from __future__ import annotations

import importlib.util
import socket
import ssl
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.exc import NoSuchModuleError

from trivium.errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = ["SUPPORTED_SCHEMES", "checked_url", "connect_error"]

SUPPORTED_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")
"""The URL schemes trivium gives an async driver to (and tests)."""


def checked_url(url: str | URL, drivers: dict[str, str] | None = None) -> URL:
    """Parse `url`, refusing one SQLAlchemy has no dialect for with the supported schemes.

    `drivers` maps plain schemes to the driver given to them before the check.

    Raises:
        ConfigurationError: `db-url-invalid` (not a URL) or `db-url-scheme` (unknown scheme).
    """
    shown = url if isinstance(url, str) else url.render_as_string(hide_password=True)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            f"database URL {_hide(shown)!r} is not a URL; write it as "
            "scheme://user:password@host:port/database, e.g. postgresql://app@localhost/app",
            "db-url-invalid",
        ) from None
    driver = (drivers or {}).get(parsed.drivername)
    if driver is not None:
        parsed = parsed.set(drivername=driver)
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        schemes = ", ".join(f"{scheme}://" for scheme in SUPPORTED_SCHEMES)
        raise ConfigurationError(
            f"database URL scheme {parsed.drivername + '://'!r} is not supported; use one "
            f"of: {schemes} (a driver may follow, as in postgresql+asyncpg://)",
            "db-url-scheme",
        ) from None
    _check_driver(parsed, dialect)
    return parsed


def _check_driver(url: URL, dialect: Any) -> None:
    """Refuse a URL whose driver package is not installed, naming the package."""
    if importlib.util.find_spec(url.get_driver_name()) is not None:
        return  # installed, and not imported before the app connects
    try:
        dialect.import_dbapi()
    except ModuleNotFoundError as exc:
        module = (exc.name or url.get_driver_name()).split(".")[0]
        package = _PACKAGES.get(module, module)
        raise ConfigurationError(
            f"database URL scheme {url.drivername + '://'!r} needs the {module!r} module, "
            f"which is not installed; install it (pip install {package}), or leave the "
            f"driver out ({url.get_backend_name()}://) to use the one trivium[db] installs",
            "db-driver-missing",
        ) from None


_PACKAGES = {
    "MySQLdb": "mysqlclient",
    "psycopg2": "psycopg2-binary",
    "psycopg": "'psycopg[binary]'",
}


def _hide(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


_MISSING = ("does not exist", "unknown database")
_LOGIN = ("password authentication failed", "access denied", "authentication failed")
_DNS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "could not translate host name",
    "no address associated with hostname",
    "getaddrinfo failed",
)
_TLS = (
    "ssl upgrade",
    "does not support ssl",
    "ssl was required",
    "ssl connection has been closed",
    "certificate verify failed",
    "ssl handshake",
    "wrong version number",
)
_TIMEOUT = ("timeout expired", "timed out")
_UNREACHABLE = ("connect call failed", "can't connect", "connection refused", "could not connect")


def connect_error(
    url: URL, exc: BaseException, *, timeout: float | None = None
) -> ConfigurationError | None:
    """Explain why connecting to `url` failed in one line, or `None` if it is not a common case.

    The driver's error is found on the exception's cause chain (trivium's
    `DatabaseUnavailableError` wraps it). Every way of not reaching the server is
    `db-unreachable`: refused, a host name that does not resolve, no answer within
    `timeout` seconds (the connect timeout, quoted), a failed TLS set-up.
    """
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(chain) < 8:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    text = " | ".join(f"{type(cause).__name__}: {cause}".lower() for cause in chain)
    database, user = url.database or "", url.username or ""
    where = f"{url.host or 'localhost'}:{url.port or _default_port(url)}"
    if url.get_backend_name() == "sqlite":
        if "unable to open database file" in text:
            return ConfigurationError(
                f"cannot open the SQLite database {database!r}: its folder does not exist "
                "or is not writable; create the folder or fix the path in the URL",
                "db-unreachable",
            )
        return None
    if ("role" in text and "does not exist" in text) or any(word in text for word in _LOGIN):
        return ConfigurationError(
            f"the database server at {where} refused the login of user {user!r}; check "
            "the user and password in the URL, or create the user (role)",
            "db-login-failed",
        )
    if any(word in text for word in _MISSING):
        return ConfigurationError(
            f"database {database!r} does not exist on {where}; create it (PostgreSQL: "
            f"createdb {database}; MariaDB: CREATE DATABASE {database}) or fix the URL",
            "db-missing",
        )
    message = _unreachable(chain, text, where, database, timeout)
    return None if message is None else ConfigurationError(message, "db-unreachable")


def _unreachable(
    chain: list[BaseException], text: str, where: str, database: str, timeout: float | None
) -> str | None:
    """Say why no server could be reached, or `None` if that is not what the chain says."""
    host = where.rpartition(":")[0]
    dns = next((c for c in chain if isinstance(c, socket.gaierror | socket.herror)), None)
    if dns is not None or any(word in text for word in _DNS):
        reason = dns.strerror if isinstance(dns, OSError) and dns.strerror else "unknown host"
        return (
            f"the database host {host!r} cannot be resolved ({reason}); fix the host in "
            "the URL, or check the DNS"
        )
    tls = next((c for c in chain if isinstance(c, ssl.SSLError)), None)
    if tls is not None or any(word in text for word in _TLS):
        reason = _first_line(tls if tls is not None else chain[-1])
        return (
            f"the TLS connection to the database server at {where} failed ({reason}); "
            "check the server's TLS set-up and the ssl/sslmode parameter of the URL"
        )
    if any(isinstance(c, TimeoutError) for c in chain) or any(w in text for w in _TIMEOUT):
        within = f"within {timeout:g} s" if timeout is not None else "in time"
        return (
            f"the database server at {where} (for database {database!r}) did not answer "
            f"{within}; check that it is running and that no firewall drops the connection"
        )
    if any(word in text for word in _UNREACHABLE) or any(isinstance(c, OSError) for c in chain):
        return (
            f"no database server answers at {where} (for database {database!r}); start "
            "it, or fix the host and port in the URL"
        )
    return None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _default_port(url: URL) -> int:
    return 5432 if url.get_backend_name() == "postgresql" else 3306
