"""Deployment checks, `trivium check --deploy`: the settings that are fine on a laptop only.

Like Django's `check --deploy`, each check has a stable id, a level (`error`: unsafe or
broken in production; `warning`: usually wrong) and a hint. They look at the built app
through public names only: its plugins, middleware and default headers.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any
from typing import Literal

__all__ = ["Finding", "deployment_checks"]

_MIN_SECRET = 32


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by a check."""

    id: str
    """Stable identifier, documented in docs/cli.md."""
    level: Literal["error", "warning"]
    """`error` or `warning`."""
    message: str
    """What is wrong and what to do."""

    def __str__(self) -> str:
        return f"{self.level.upper()} {self.id}: {self.message}"


async def deployment_checks(app: Any) -> list[Finding]:
    """Run every deployment check on the built `app` and return the findings."""
    findings = [*_environment(app), *_secrets(app), *_hosts(app), *_cookies(app), *_hsts(app)]
    findings += await _migrations(app)
    return findings


def _environment(app: Any) -> list[Finding]:
    found = []
    if app.debug:
        found.append(
            Finding(
                "deploy.debug",
                "error",
                "the app runs with debug=True: tracebacks reach "
                "visitors; set App(debug=False) (TRIVIUM_DEBUG=false)",
            )
        )
    if not app.production:
        found.append(
            Finding(
                "deploy.env",
                "warning",
                "TRIVIUM_ENV is not 'production': the production "
                "start-up checks (secret key, site URL) are off; set TRIVIUM_ENV=production",
            )
        )
    return found


def _secret_values(app: Any) -> list[tuple[str, str]]:
    """Return (owner, key) for each plugin's secret key and each `SessionMiddleware`'s."""
    keys = [(type(plugin).__name__, getattr(plugin, "secret_key", None)) for plugin in app.plugins]
    if "trivium.sessions" in sys.modules:
        from trivium.sessions import SessionMiddleware

        entries = app.middleware_of(SessionMiddleware)
        keys += [("SessionMiddleware", entry.kwargs.get("secret_key")) for entry in entries]
    values = []
    for owner, key in keys:
        if key is None:
            continue
        getter = getattr(key, "get_secret_value", None)
        values.append((owner, getter() if callable(getter) else str(key)))
    return values


def _secrets(app: Any) -> list[Finding]:
    from trivium.conf import DEV_SECRET_KEY

    # One finding per weak key, naming every holder (Auth hands its key to its Sessions).
    weak: dict[str, list[str]] = {}
    for owner, value in _secret_values(app):
        if value == DEV_SECRET_KEY or len(value) < _MIN_SECRET or len(set(value)) < 8:
            weak.setdefault(value, []).append(owner)
    return [
        Finding(
            "deploy.secret-key",
            "error",
            f"the secret key of {', '.join(owners)} is the development "
            f"default, shorter than {_MIN_SECRET} characters or too repetitive; "
            "generate one: python -c 'import secrets; print(secrets.token_urlsafe(48))'",
        )
        for owners in weak.values()
    ]


def _hosts(app: Any) -> list[Finding]:
    from trivium.middleware import TrustedHostMiddleware

    entries = app.middleware_of(TrustedHostMiddleware)
    flat: list[str] = []
    for entry in entries:
        hosts = entry.kwargs.get("allowed_hosts", entry.args[0] if entry.args else None)
        flat += [str(host) for host in hosts or ["*"]]
    if not entries or "*" in flat:
        return [
            Finding(
                "deploy.allowed-hosts",
                "warning",
                "no TrustedHostMiddleware with explicit "
                "hosts: requests with any Host header are served (cache poisoning, "
                "password-reset links to other hosts); add "
                "app.add_middleware(TrustedHostMiddleware, allowed_hosts=['example.com']) "
                "(a project made by `trivium new`: set TRIVIUM_ALLOWED_HOSTS)",
            )
        ]
    return []


def _cookies(app: Any) -> list[Finding]:
    return [
        Finding(
            "deploy.cookie-secure",
            "warning",
            f"{type(plugin).__name__}'s cookie {plugin.cookie_name!r} is not always Secure "
            "(secure=True): behind a proxy that terminates TLS the app may see http and "
            "send it in clear",
        )
        for plugin in app.plugins
        if hasattr(plugin, "cookie_name") and getattr(plugin, "secure", None) is not True
    ]


def _hsts(app: Any) -> list[Finding]:
    from trivium.middleware import SecurityHeadersMiddleware

    headers = {name.lower() for name, _ in app.default_headers}
    if b"strict-transport-security" in headers:
        return []
    for entry in app.middleware_of(SecurityHeadersMiddleware):
        if entry.kwargs.get("hsts", True) is not False:
            return []
    return [
        Finding(
            "deploy.hsts",
            "warning",
            "no Strict-Transport-Security header: browsers may "
            "reach the site over plain HTTP; add SecurityHeadersMiddleware (HSTS on by "
            "default), or send HSTS from the proxy (then ignore this warning)",
        )
    ]


async def _migrations(app: Any) -> list[Finding]:
    if "trivium.db" not in sys.modules:
        return []
    from trivium.db import Database

    found = []
    for database in app.plugins_of(Database):
        try:
            pending = await database.pending_migrations()
        except Exception as exc:  # noqa: BLE001 - reported as a finding
            found.append(
                Finding(
                    "deploy.database",
                    "error",
                    f"database {database.name!r} could not be checked: {type(exc).__name__}: {exc}",
                )
            )
            continue
        finally:
            await database.dispose()
        if pending:
            found.append(
                Finding(
                    "deploy.migrations",
                    "error",
                    f"database {database.name!r} has "
                    f"{len(pending)} unapplied migration(s) ({', '.join(pending)}); run: "
                    "trivium db migrate",
                )
            )
    return found
