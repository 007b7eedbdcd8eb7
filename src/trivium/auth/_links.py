"""Absolute links in emails: from the configured site URL, never from an untrusted `Host`.

A password-reset link built from `request.base_url` points wherever the request's `Host`
header says. An attacker who asks for a reset of the victim's account with
`Host: evil.example` would have the victim's token sent to a link on their own server
("host header poisoning"). So a link's base is, in order:

1. the configured site URL (`Auth(site_url="https://example.com")`, or the pages'
   `base_url=`), which nobody can change from the outside;
2. the request's own scheme and host, only when `TrustedHostMiddleware` checked the
   `Host` header against the app's names (it marks the scope with `TRUSTED_HOST_KEY`).

With neither, no link is sent (the error is logged), and an app in production mode
(`App.production`) refuses to start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import urlsplit

from trivium.errors import ConfigurationError

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.http import Request

__all__ = ["check_site_url", "link_base", "refuse_untrusted_links", "trusts_hosts"]

logger = logging.getLogger("trivium.auth")


def check_site_url(value: str | None) -> str | None:
    """Return the site URL without a final slash, or `None`.

    Raises:
        ConfigurationError: not an absolute `http(s)://host[:port][/path]` URL
            (`auth-site-url`).
    """
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
    ):
        raise ConfigurationError(
            f"Auth(site_url={value!r}) must be the absolute URL of the site, such as "
            "'https://example.com' (no user, query or fragment)",
            "auth-site-url",
        )
    return value.rstrip("/")


def trusts_hosts(app: App) -> bool:
    """Return whether `app` checks the `Host` header against a list of names."""
    from trivium.middleware import TrustedHostMiddleware

    for item in app.middleware_of(TrustedHostMiddleware):
        hosts: Any = item.kwargs.get("allowed_hosts", item.args[0] if item.args else ())
        if not isinstance(hosts, str) and "*" not in [str(h).strip() for h in hosts]:
            return True
    return False


def refuse_untrusted_links(app: App, site_url: str | None) -> None:
    """Refuse to start in production mode when links could only come from the `Host` header.

    Raises:
        ConfigurationError: production mode, no site URL and no trusted-host check
            (`auth-site-url-missing`).
    """
    if site_url is None and app.production and not trusts_hosts(app):
        raise ConfigurationError(
            "Auth needs to know the site's address for password-reset links: pass "
            "Auth(site_url='https://example.com'), or add "
            "TrustedHostMiddleware(allowed_hosts=[...]) so the request's Host can be trusted",
            "auth-site-url-missing",
        )


def link_base(request: Request, site_url: str | None) -> str | None:
    """Return the scheme, host and root path links start with, or `None` if none is safe."""
    if site_url is not None:
        return site_url
    from trivium.middleware import TRUSTED_HOST_KEY

    if request.scope.get(TRUSTED_HOST_KEY) is True:
        return str(request.base_url).rstrip("/")
    logger.error(
        "no password-reset link sent: the request's Host header is not checked. Set "
        "Auth(site_url=...) or add TrustedHostMiddleware(allowed_hosts=[...])"
    )
    return None
