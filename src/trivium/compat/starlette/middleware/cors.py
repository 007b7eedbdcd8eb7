"""`starlette.middleware.cors`: CORS with Starlette's defaults and wildcard behaviour.

Trivium's own `CORSMiddleware` refuses `allow_origins=["*"]` with `allow_credentials=True`.
Starlette accepts it and answers each request with its own `Origin` (and
`Access-Control-Allow-Credentials: true`), which lets any web site read responses to
your users' credentialed requests. This class does the same, so ported apps start, and
logs a warning naming that risk when it is built.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from trivium.middleware import CORSMiddleware as _TriviumCORS
from trivium.types import ASGIApp

__all__ = ["CORSMiddleware"]

logger = logging.getLogger("trivium.compat")


class CORSMiddleware(_TriviumCORS):
    """CORS as Starlette does it: the defaults allow `GET` only, and a wildcard may go with credentials.

    Args:
        app: the ASGI app to wrap.
        allow_origins: origins allowed to read responses (`["*"]` for any).
        allow_methods: methods allowed in cross-origin requests (default `GET`).
        allow_headers: request headers allowed beyond the CORS-safelisted ones.
        allow_credentials: let browsers send cookies; with `["*"]` the request's origin is
            reflected (a risk, logged when the middleware is built).
        allow_origin_regex: origins matching this regex are allowed too.
        expose_headers: response headers the browser may read.
        max_age: seconds a preflight answer may be cached.
    """

    def __init__(  # noqa: PLR0913 - Starlette's options
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        wildcard_credentials = "*" in allow_origins and allow_credentials
        super().__init__(
            app,
            allow_origins=allow_origins,
            allow_origin_regex=allow_origin_regex,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            allow_credentials=allow_credentials and not wildcard_credentials,
            expose_headers=expose_headers,
            max_age=max_age,
        )
        if wildcard_credentials:
            logger.warning(
                'CORSMiddleware(allow_origins=["*"], allow_credentials=True) reflects every '
                "request's Origin with credentials allowed: any web site can read responses "
                "to your users' cookie-authenticated requests. List the allowed origins "
                "instead (trivium's own CORSMiddleware refuses this combination)."
            )
            self.allow_credentials = True
            self.vary_always = True  # the answer now depends on the origin
